// Latest mode on a WebSocket connection. One connection is one sink for all its subscriptions,
// so a delivery is coalescible when its channel is latest by the tenant's default or when every
// subscription pattern it matched asked for latest mode (SUB …:L): then a queued, not yet
// written frame of the same channel is replaced by the newer one. A delivery that also matched
// an ordinary subscription is never coalesced, so that subscription still sees every message.
import type { DispatchMessage } from '../../delivery/index.js';

const keyOf = (tenant: string, name: string): string => `${tenant}\u0000${name}`;

export class LatestPatterns {
  readonly #patterns = new Set<string>();

  set(tenant: string, pattern: string, latest: boolean): void {
    if (latest) this.#patterns.add(keyOf(tenant, pattern));
    else this.#patterns.delete(keyOf(tenant, pattern));
  }

  /** The supersession key of this delivery (its channel), or undefined when it must not coalesce. */
  keyOf(msg: DispatchMessage, patterns: readonly string[]): string | undefined {
    if (msg.latest === true) return keyOf(msg.tenant, msg.channel);
    if (this.#patterns.size === 0) return undefined;
    for (const p of patterns) if (!this.#patterns.has(keyOf(msg.tenant, p))) return undefined;
    return keyOf(msg.tenant, msg.channel);
  }
}
