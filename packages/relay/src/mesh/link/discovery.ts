// Where a relay finds peers to dial. One small interface, so the control plane's PoP registry
// can plug in next to the seed list later; peer exchange (PEERS frames) feeds `learn`.
export interface PeerCandidate {
  /** host:port of a peer's mesh (QUIC) endpoint. */
  addr: string;
  /** Relay id, when known (from peer exchange or a registry); seeds usually have none. */
  id?: string;
  /** 'tcp': dial the peer's mesh WebSocket on TLS (same port number, TCP) instead of QUIC. */
  over?: 'tcp';
}

export interface MeshDiscovery {
  /** Addresses worth dialing now. */
  candidates(): readonly PeerCandidate[];
  /** A peer told us about another relay (peer exchange). */
  learn(candidate: PeerCandidate): void;
}

/** The static seed list plus, when enabled, what peer exchange taught us. */
export class SeedDiscovery implements MeshDiscovery {
  readonly #list: PeerCandidate[];
  readonly #peerExchange: boolean;
  readonly #max: number;

  constructor(seeds: readonly string[], opts: { peerExchange: boolean; maxLearned?: number }) {
    this.#list = [...new Set(seeds)].map((addr) => ({ addr }));
    this.#peerExchange = opts.peerExchange;
    this.#max = seeds.length + (opts.maxLearned ?? 256);
  }

  candidates(): readonly PeerCandidate[] {
    return this.#list;
  }

  learn(c: PeerCandidate): void {
    if (!this.#peerExchange || this.#list.length >= this.#max) return;
    const have = this.#list.find((x) => x.addr === c.addr || (c.id !== undefined && x.id === c.id));
    if (have === undefined) this.#list.push({ ...c });
    else if (have.id === undefined && have.addr === c.addr && c.id !== undefined) have.id = c.id;
  }
}
