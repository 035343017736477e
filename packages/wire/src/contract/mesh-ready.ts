// An extension of the contract's text frames for SDKs that want a subscription to be known
// across the relay mesh before they rely on it. Opt-in: a client sends
// `MESHREADY:{tenant}:{pattern}` after its SUB, and the edge answers `MESHREADY:{tenant}:{pattern}`
// once every PoP it can route to forwards matching publishes to it, or
// `MESHREADY:{tenant}:{pattern}:timeout` if that took longer than the edge's bound. Contract
// clients never send it, so they never see the answer (and would ignore unknown text anyway).

export const MESH_READY_PREFIX = 'MESHREADY:';
const TIMEOUT_SUFFIX = ':timeout';

export function formatMeshReadyRequest(tenant: string, pattern: string): string {
  return `${MESH_READY_PREFIX}${tenant}:${pattern}`;
}

export function formatMeshReady(tenant: string, pattern: string, complete: boolean): string {
  return `${MESH_READY_PREFIX}${tenant}:${pattern}${complete ? '' : TIMEOUT_SUFFIX}`;
}

export interface MeshReady {
  tenant: string;
  pattern: string;
  /** False when the edge gave up waiting (`:timeout`); always true in a request. */
  complete: boolean;
}

/** Parses a request or an answer; undefined if `text` is not a MESHREADY line. */
export function parseMeshReady(text: string): MeshReady | undefined {
  if (!text.startsWith(MESH_READY_PREFIX)) return undefined;
  let body = text.slice(MESH_READY_PREFIX.length);
  let complete = true;
  if (body.endsWith(TIMEOUT_SUFFIX) && body.split(':').length === 3) {
    body = body.slice(0, -TIMEOUT_SUFFIX.length);
    complete = false;
  }
  const i = body.indexOf(':');
  if (i <= 0 || i === body.length - 1) return undefined;
  return { tenant: body.slice(0, i), pattern: body.slice(i + 1), complete };
}
