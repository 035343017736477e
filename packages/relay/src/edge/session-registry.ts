// The live client sessions of one edge: the set itself, an index by access-token id (a
// revocation closes every session of that token) and a bounded wait for the set to empty (the
// drain phases of a graceful shutdown). Both edges keep their sessions here.

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
