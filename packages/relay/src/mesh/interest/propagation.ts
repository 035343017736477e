// Knowing when the mesh has this PoP's interest. Every PoP that applies another PoP's new
// interest snapshot answers with INTEREST_ACK {origin, seq, from}, routed hop by hop along each
// relay's best route to the origin (stateless, TTL-bounded). The origin keeps, per PoP, the
// highest snapshot version it acknowledged; `whenPropagated(v)` resolves once every PoP it can
// route to has acknowledged v or newer, i.e. once every reachable PoP forwards matching
// publishes here. Waiters are bounded in time (they resolve false on timeout) and in count.

export interface PropagationDeps {
  /** This PoP's id. */
  self: string;
  /** PoPs this relay currently has a route to (the ones that must acknowledge). */
  reachable(): readonly string[];
}

interface Waiter {
  version: number;
  resolve(complete: boolean): void;
  timer: NodeJS.Timeout;
}

/** Enough for every SDK connection waiting at once on a busy PoP; beyond it, answer at once. */
const MAX_WAITERS = 10_000;

export class InterestPropagation {
  readonly #deps: PropagationDeps;
  /** PoP id → highest version of our snapshot it acknowledged. */
  readonly #acked = new Map<string, number>();
  readonly #waiters = new Set<Waiter>();

  constructor(deps: PropagationDeps) {
    this.#deps = deps;
  }

  /** Records `from`'s acknowledgement of our snapshot `version`. */
  onAck(from: string, version: number): void {
    if (version > (this.#acked.get(from) ?? -1)) this.#acked.set(from, version);
    this.check();
  }

  /** Whether every reachable PoP acknowledged `version` or newer. */
  isPropagated(version: number): boolean {
    for (const pop of this.#deps.reachable()) {
      if (pop === this.#deps.self) continue;
      if ((this.#acked.get(pop) ?? -1) < version) return false;
    }
    return true;
  }

  /** Resolves true once `version` is everywhere reachable, false after `timeoutMs`. */
  whenPropagated(version: number, timeoutMs: number): Promise<boolean> {
    if (this.isPropagated(version)) return Promise.resolve(true);
    if (this.#waiters.size >= MAX_WAITERS) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w: Waiter = {
        version,
        resolve,
        timer: setTimeout(() => {
          this.#waiters.delete(w);
          resolve(false);
        }, timeoutMs),
      };
      this.#waiters.add(w);
    });
  }

  /** Re-evaluates the waiters (after an ack, or after routes changed: an unreachable PoP no longer counts). */
  check(): void {
    for (const w of this.#waiters) {
      if (!this.isPropagated(w.version)) continue;
      clearTimeout(w.timer);
      this.#waiters.delete(w);
      w.resolve(true);
    }
  }

  /** Resolves every waiter with false (shutdown). */
  close(): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
    this.#waiters.clear();
  }
}
