// Forwarding decisions that sit on top of the routing table: split a destination list by next
// hop (one copy per next hop, carrying the destinations it is responsible for), suppress
// duplicates by message id, and count down a TTL. Pure; the caller owns the clock.

/** What planForwarding needs from a routing table (Router satisfies it). */
export interface NextHopLookup {
  nextHop(dest: string): string | undefined;
}

export interface ForwardingPlan {
  /** next hop → destinations that copy must reach (in the order given, deduplicated). */
  readonly byNextHop: Map<string, string[]>;
  /** `self` was among the destinations: deliver to local subscribers too. */
  readonly local: boolean;
  /** Destinations with no route right now (counted by the caller, not silently lost). */
  readonly unreachable: string[];
}

export function planForwarding(self: string, destinations: Iterable<string>, table: NextHopLookup): ForwardingPlan {
  const byNextHop = new Map<string, string[]>();
  const unreachable: string[] = [];
  const seen = new Set<string>();
  let local = false;
  for (const d of destinations) {
    if (seen.has(d)) continue;
    seen.add(d);
    if (d === self) {
      local = true;
      continue;
    }
    const hop = table.nextHop(d);
    if (hop === undefined) {
      unreachable.push(d);
      continue;
    }
    const list = byNextHop.get(hop);
    if (list === undefined) byNextHop.set(hop, [d]);
    else list.push(d);
  }
  return { byNextHop, local, unreachable };
}

/** Hop budget of a new message; the world's longest useful overlay path is far shorter. */
export const DEFAULT_TTL = 8;

/** The TTL to forward with, or undefined when the message must be dropped here. */
export function nextTtl(ttl: number): number | undefined {
  return ttl > 1 ? ttl - 1 : undefined;
}

export interface DuplicateFilterOptions {
  /** How long an id is remembered. Default 10 s (far above any mesh path's delay). */
  readonly windowMs?: number;
  /** Hard bound on remembered ids; the oldest is evicted first. Default 100 000. */
  readonly maxEntries?: number;
}

/**
 * Remembers message ids for a time window, bounded in size. A Map keeps insertion order,
 * which is also time order, so expiry and eviction only ever look at the front.
 */
export class DuplicateFilter {
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly ids = new Map<string, number>();

  constructor(options: DuplicateFilterOptions = {}) {
    this.windowMs = options.windowMs ?? 10_000;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /** True if `id` was seen within the window (a duplicate); otherwise records it. */
  seen(id: string, nowMs: number): boolean {
    this.expire(nowMs);
    if (this.ids.has(id)) return true;
    this.ids.set(id, nowMs);
    if (this.ids.size > this.maxEntries) this.ids.delete(this.ids.keys().next().value as string);
    return false;
  }

  get size(): number {
    return this.ids.size;
  }

  private expire(nowMs: number): void {
    for (const [id, at] of this.ids) {
      if (nowMs - at < this.windowMs) break;
      this.ids.delete(id);
    }
  }
}
