// The live client sessions of one edge: the set itself, an index by access-token id (a
// revocation closes every session of that token) and the drain phases of a graceful shutdown
// (ask to leave, wait, close, wait). Every edge keeps its sessions here; only how a session is
// asked to leave or closed differs per edge.

export class SessionRegistry<S> {
  readonly #sessions = new Set<S>();
  readonly #byToken = new Map<string, Set<S>>();
  #emptyWaiters: Array<() => void> = [];

  get size(): number {
    return this.#sessions.size;
  }

  [Symbol.iterator](): IterableIterator<S> {
    return this.#sessions.values();
  }

  add(session: S): void {
    this.#sessions.add(session);
  }

  /** Indexes a session under its token once the token is known (at once on WS, after AUTH on QUIC). */
  indexToken(session: S, tokenId: string): void {
    let set = this.#byToken.get(tokenId);
    if (set === undefined) this.#byToken.set(tokenId, (set = new Set()));
    set.add(session);
  }

  /** The sessions holding a token (a snapshot: callers close them while iterating). */
  withToken(tokenId: string): S[] {
    return [...(this.#byToken.get(tokenId) ?? [])];
  }

  /** Forgets a closed session; wakes waitEmpty() callers when it was the last. */
  delete(session: S, tokenId: string | undefined): void {
    this.#sessions.delete(session);
    if (tokenId !== undefined) {
      const set = this.#byToken.get(tokenId);
      set?.delete(session);
      if (set?.size === 0) this.#byToken.delete(tokenId);
    }
    if (this.#sessions.size === 0) {
      const waiters = this.#emptyWaiters;
      this.#emptyWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Closes every session holding a revoked token; returns how many there were. */
  closeToken(tokenId: string, close: (session: S) => void): number {
    const peers = this.withToken(tokenId);
    for (const s of peers) close(s);
    return peers.length;
  }

  /**
   * The drain phases of a graceful shutdown, bounded by `drainMs + closeMs`: ask every session
   * to leave (reconnect elsewhere), serve until they do or `drainMs` passes, close the rest and
   * wait up to `closeMs` for them to go.
   */
  async drain(drainMs: number, closeMs: number, how: { askToLeave(session: S): void; close(session: S): void }): Promise<void> {
    for (const s of this.#sessions) how.askToLeave(s);
    await this.waitEmpty(drainMs);
    for (const s of this.#sessions) how.close(s);
    await this.waitEmpty(closeMs);
  }

  /** Resolves when no session is left, or after `ms` — whichever comes first. */
  waitEmpty(ms: number): Promise<void> {
    if (this.#sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#emptyWaiters.push(done);
    });
  }
}
