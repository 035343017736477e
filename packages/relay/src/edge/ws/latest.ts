// Latest mode on a WebSocket connection. One connection is one sink for all its subscriptions,
// so a delivery is coalescible when its channel is latest by the tenant's default or when every
// subscription pattern it matched asked for latest mode (SUB …:L): then a queued, not yet
// written frame of the same channel is replaced by the newer one. A delivery that also matched
// an ordinary subscription is never coalesced, so that subscription still sees every message.
// Supersessions of `:L` subscriptions are told to the client (`SUPERSEDED:t:p:n`) ahead of the
// next delivery once the connection's queue has drained; plain subscriptions of a tenant-default
// latest channel are coalesced without a notice, so contract clients never see one.
import { formatSuperseded } from '@fastpubsub/wire';
import type { DispatchMessage } from '../../delivery/index.js';

const keyOf = (tenant: string, name: string): string => `${tenant}\u0000${name}`;

export class LatestPatterns {
  readonly #patterns = new Set<string>();
  /** tenant\0pattern → supersessions not yet told to the client. */
  readonly #unreported = new Map<string, number>();

  set(tenant: string, pattern: string, latest: boolean): void {
    if (latest) this.#patterns.add(keyOf(tenant, pattern));
    else {
      this.#patterns.delete(keyOf(tenant, pattern));
      this.#unreported.delete(keyOf(tenant, pattern));
    }
  }

  /** A delivery matching `patterns` replaced a queued one: count it for each `:L` pattern. */
  superseded(tenant: string, patterns: readonly string[]): void {
    for (const p of patterns) {
      const k = keyOf(tenant, p);
      if (this.#patterns.has(k)) this.#unreported.set(k, (this.#unreported.get(k) ?? 0) + 1);
    }
  }

  get hasUnreported(): boolean {
    return this.#unreported.size > 0;
  }

  /** The `SUPERSEDED:` lines owed, and forgets them. */
  takeNotices(): string[] {
    const lines: string[] = [];
    for (const [k, n] of this.#unreported) {
      const i = k.indexOf('\u0000');
      lines.push(formatSuperseded(k.slice(0, i), k.slice(i + 1), n));
    }
    this.#unreported.clear();
    return lines;
  }

  /** The supersession key of this delivery (its channel), or undefined when it must not coalesce. */
  keyOf(msg: DispatchMessage, patterns: readonly string[]): string | undefined {
    if (msg.latest === true) return keyOf(msg.tenant, msg.channel);
    if (this.#patterns.size === 0) return undefined;
    for (const p of patterns) if (!this.#patterns.has(keyOf(msg.tenant, p))) return undefined;
    return keyOf(msg.tenant, msg.channel);
  }
}
