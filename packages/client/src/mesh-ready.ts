// `subscribe(tenant, pattern, { meshReady: true })`: after the edge's OK:SUB, ask it (opt-in
// MESHREADY text, see @fastpubsub/wire mesh-ready.ts) to answer once every PoP of the relay mesh
// routes the subscription's messages to it, so a publish made anywhere after `subscribe()`
// resolves is delivered. Waits are per connection and bounded in time.
import { ClientError } from './errors.js';

interface Pending {
  key: string;
  resolve(complete: boolean): void;
}

export class MeshReadyWaiters<C extends object> {
  readonly #byConn = new WeakMap<C, Set<Pending>>();

  /** Resolves when `conn` answers for (tenant, pattern); rejects with `timeout` after `timeoutMs`. */
  wait(conn: C, tenant: string, pattern: string, timeoutMs: number): Promise<void> {
    let set = this.#byConn.get(conn);
    if (set === undefined) {
      set = new Set();
      this.#byConn.set(conn, set);
    }
    const pendingSet = set;
    return new Promise<void>((resolve, reject) => {
      const p: Pending = {
        key: `${tenant}\u0000${pattern}`,
        resolve: (complete) => {
          clearTimeout(timer);
          pendingSet.delete(p);
          if (complete) resolve();
          else reject(new ClientError('timeout', `the edge could not confirm ${tenant}:${pattern} across the mesh in time`));
        },
      };
      const timer = setTimeout(() => p.resolve(false), timeoutMs);
      pendingSet.add(p);
    });
  }

  /** An answer from `conn`: settles every wait for that pair. */
  answer(conn: C, tenant: string, pattern: string, complete: boolean): void {
    const key = `${tenant}\u0000${pattern}`;
    for (const p of [...(this.#byConn.get(conn) ?? [])]) if (p.key === key) p.resolve(complete);
  }
}
