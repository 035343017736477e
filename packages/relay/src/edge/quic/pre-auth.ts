// Pre-authentication bounds of the QUIC edge: a connection that has handshaken but not yet
// sent a valid AUTH is counted here, not against `maxConnections` (authenticated capacity).
// Beyond `maxPreAuthConnections` the oldest pre-auth connection is closed, so silent
// handshakes cannot lock real clients out; `maxConnectionsPerIp` bounds one address.

export class QuicPreAuth<S> {
  /** Insertion order = age. */
  readonly #pending = new Set<S>();
  readonly #perIp = new Map<string, number>();
  readonly #maxPending: number;
  readonly #maxPerIp: number;

  constructor(maxPending: number, maxPerIp: number) {
    this.#maxPending = maxPending;
    this.#maxPerIp = maxPerIp;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * A new connection from `ip`: 'per_ip' if the address is at its cap (refuse it), else it is
   * admitted as pending and the session to evict (the oldest pending one) is returned, if any.
   */
  admit(session: S, ip: string): { refused: 'per_ip' } | { refused?: undefined; evict: S | undefined } {
    const n = this.#perIp.get(ip) ?? 0;
    if (n >= this.#maxPerIp) return { refused: 'per_ip' };
    this.#perIp.set(ip, n + 1);
    let evict: S | undefined;
    if (this.#pending.size >= this.#maxPending) {
      evict = this.#pending.values().next().value;
      if (evict !== undefined) this.#pending.delete(evict);
    }
    this.#pending.add(session);
    return { evict };
  }

  authenticated(session: S): void {
    this.#pending.delete(session);
  }

  closed(session: S, ip: string): void {
    this.#pending.delete(session);
    const n = (this.#perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n);
  }
}
