// The WebSocket edge's side of the opt-in MESHREADY extension (@fastpubsub/wire mesh-ready.ts):
// an SDK that wants `subscribe()` to resolve only once the whole mesh routes the subscription
// here sends `MESHREADY:{t}:{p}` after its SUB; the edge answers once the mesh has propagated
// its current interest (or, bounded, with `:timeout`). A standalone relay answers at once.
import { formatMeshReady, type MeshReady } from '@fastpubsub/wire';

/** Upper bound on one wait: the mesh's interest reaches every PoP within the path latency, far below this. */
export const MESH_READY_TIMEOUT_MS = 5000;

/** Resolves true once every reachable PoP holds this relay's current interest. */
export type InterestReady = (timeoutMs: number) => Promise<boolean>;

export interface MeshReadyTarget {
  readonly closing: boolean;
  sendText(text: string): void;
}

export function answerMeshReady(target: MeshReadyTarget, req: MeshReady, interestReady: InterestReady | undefined): void {
  if (interestReady === undefined) return target.sendText(formatMeshReady(req.tenant, req.pattern, true));
  interestReady(MESH_READY_TIMEOUT_MS).then(
    (complete) => {
      if (!target.closing) target.sendText(formatMeshReady(req.tenant, req.pattern, complete));
    },
    () => {
      if (!target.closing) target.sendText(formatMeshReady(req.tenant, req.pattern, false));
    },
  );
}
