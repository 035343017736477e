// Mesh discovery from the control plane's PoP registry: the seed list, plus every registered
// PoP's mesh address (refreshed from GET /v1/pops), plus peer exchange when enabled. Plugs into
// the mesh's MeshDiscovery seam; when the control plane is unreachable the last list is kept.
import type { MeshDiscovery, PeerCandidate } from './discovery.js';

export interface RegistrySource {
  listPops(): Promise<Array<{ id: string; mesh?: string; meshId?: string }>>;
}

export class RegistryDiscovery implements MeshDiscovery {
  readonly #seeds: PeerCandidate[];
  readonly #learned: PeerCandidate[] = [];
  readonly #peerExchange: boolean;
  readonly #self: () => string | undefined;
  #registry: PeerCandidate[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: { seeds: readonly string[]; peerExchange: boolean; self: () => string | undefined }) {
    this.#seeds = [...new Set(opts.seeds)].map((addr) => ({ addr }));
    this.#peerExchange = opts.peerExchange;
    this.#self = opts.self;
  }

  /** Refreshes from `source` now and every `everyMs`. */
  start(source: RegistrySource, everyMs: number): void {
    const refresh = async (): Promise<void> => {
      try {
        const self = this.#self();
        this.#registry = (await source.listPops())
          .filter((p) => p.mesh !== undefined && p.mesh !== '' && p.meshId !== self)
          .map((p) => ({ addr: p.mesh as string, ...(p.meshId === undefined || p.meshId === '' ? {} : { id: p.meshId }) }));
      } catch {
        // unreachable: keep the last list
      }
    };
    void refresh();
    this.#timer = setInterval(() => void refresh(), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  candidates(): readonly PeerCandidate[] {
    const out = [...this.#seeds];
    for (const c of [...this.#registry, ...this.#learned]) if (!out.some((x) => x.addr === c.addr)) out.push(c);
    return out;
  }

  learn(c: PeerCandidate): void {
    if (!this.#peerExchange || this.#learned.length >= 256) return;
    if (!this.#learned.some((x) => x.addr === c.addr)) this.#learned.push({ ...c });
  }
}
