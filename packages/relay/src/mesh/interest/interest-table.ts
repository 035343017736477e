// Which PoPs want which channels. Each PoP owns one versioned snapshot of its local subscribers'
// patterns per tenant; snapshots are flooded on change and repaired by digest exchange (anti-
// entropy), so a lost message costs at most one gossip interval. Full snapshots (not deltas)
// because a PoP's pattern set is small and "newest version wins" then needs no ordering.

import { isLiteralPattern, matchesPattern } from '../../fanout/pattern.js';

export interface InterestSnapshot {
  readonly pop: string;
  /** Grows with every change of this PoP's set; seed it from the boot time to survive restarts. */
  readonly version: number;
  /** tenant → patterns (sorted, unique). Tenants without patterns are omitted. */
  readonly tenants: Readonly<Record<string, readonly string[]>>;
}

/** pop → version held, exchanged periodically so peers can send what the other lacks. */
export type InterestDigest = Readonly<Record<string, number>>;

export interface InterestTableOptions {
  readonly self: string;
  /** First version of our own snapshot, e.g. boot wall-clock ms, so a restart is newer. Default 1. */
  readonly initialVersion?: number;
  /** destinationsFor answers cached (cleared on any change). Default 10 000. */
  readonly cacheSize?: number;
}

interface PopInterest {
  version: number;
  snapshot: InterestSnapshot;
  /** tenant → literal channels (exact lookup) and wildcard patterns (matched one by one). */
  literal: Map<string, Set<string>>;
  wild: Map<string, string[]>;
}

export class InterestTable {
  readonly self: string;
  private version: number;
  /** tenant → pattern → local subscription count. */
  private readonly local = new Map<string, Map<string, number>>();
  private readonly pops = new Map<string, PopInterest>();
  /** pop → when it was first seen unreachable (see expireUnreachable). */
  private readonly unreachableSince = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();
  private readonly cacheSize: number;

  constructor(options: InterestTableOptions) {
    this.self = options.self;
    this.version = options.initialVersion ?? 1;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.store(this.buildLocal());
  }

  /** One more local subscription on `pattern`; true if the PoP's snapshot changed. */
  addLocal(tenant: string, pattern: string): boolean {
    let t = this.local.get(tenant);
    if (t === undefined) this.local.set(tenant, (t = new Map<string, number>()));
    const n = t.get(pattern) ?? 0;
    t.set(pattern, n + 1);
    if (n > 0) return false;
    this.bump();
    return true;
  }

  /** One local subscription on `pattern` fewer; true if the PoP's snapshot changed. */
  removeLocal(tenant: string, pattern: string): boolean {
    const t = this.local.get(tenant);
    const n = t?.get(pattern);
    if (t === undefined || n === undefined) return false;
    if (n > 1) {
      t.set(pattern, n - 1);
      return false;
    }
    t.delete(pattern);
    if (t.size === 0) this.local.delete(tenant);
    this.bump();
    return true;
  }

  localSnapshot(): InterestSnapshot {
    return (this.pops.get(this.self) as PopInterest).snapshot;
  }

  /** Stores a remote snapshot if newer; true means "new to us: flood it to other neighbours". */
  apply(snapshot: InterestSnapshot): boolean {
    if (snapshot.pop === this.self) {
      // Our own older life (before a restart) still circulating: jump past it.
      if (snapshot.version >= this.version) {
        this.version = snapshot.version;
        this.bump();
      }
      return false;
    }
    const have = this.pops.get(snapshot.pop);
    if (have !== undefined && have.version >= snapshot.version) return false;
    this.store(snapshot);
    return true;
  }

  /**
   * Forgets the interest of every PoP that has been unreachable (`reachable` false) for
   * `afterMs`, so a PoP gone for good stops attracting copies; returns the PoPs forgotten. If
   * one comes back, digest exchange brings its snapshot again.
   */
  expireUnreachable(nowMs: number, reachable: (pop: string) => boolean, afterMs: number): string[] {
    const gone: string[] = [];
    for (const pop of this.pops.keys()) {
      if (pop === this.self) continue;
      if (reachable(pop)) {
        this.unreachableSince.delete(pop);
        continue;
      }
      const since = this.unreachableSince.get(pop);
      if (since === undefined) this.unreachableSince.set(pop, nowMs);
      else if (nowMs - since >= afterMs) gone.push(pop);
    }
    for (const pop of gone) {
      this.pops.delete(pop);
      this.unreachableSince.delete(pop);
    }
    if (gone.length > 0) this.cache.clear();
    return gone;
  }

  digest(): InterestDigest {
    const out: Record<string, number> = {};
    for (const [pop, p] of this.pops) out[pop] = p.version;
    return out;
  }

  /** Snapshots we hold that are newer than (or missing from) a peer's digest. */
  newerThan(digest: InterestDigest): InterestSnapshot[] {
    const out: InterestSnapshot[] = [];
    for (const [pop, p] of this.pops) if ((digest[pop] ?? -1) < p.version) out.push(p.snapshot);
    return out;
  }

  /** PoPs (self included) with a subscriber whose pattern matches `channel`; sorted. */
  destinationsFor(tenant: string, channel: string): string[] {
    const k = `${tenant}\u0000${channel}`;
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    const out: string[] = [];
    for (const [pop, p] of this.pops) {
      if (p.literal.get(tenant)?.has(channel) === true || (p.wild.get(tenant) ?? []).some((w) => matchesPattern(w, channel))) {
        out.push(pop);
      }
    }
    out.sort();
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(k, out);
    return out;
  }

  private bump(): void {
    this.version += 1;
    this.store(this.buildLocal());
  }

  private buildLocal(): InterestSnapshot {
    const tenants: Record<string, readonly string[]> = {};
    for (const [t, m] of [...this.local].sort(([a], [b]) => (a < b ? -1 : 1))) tenants[t] = [...m.keys()].sort();
    return { pop: this.self, version: this.version, tenants };
  }

  private store(snapshot: InterestSnapshot): void {
    const literal = new Map<string, Set<string>>();
    const wild = new Map<string, string[]>();
    for (const [tenant, patterns] of Object.entries(snapshot.tenants)) {
      const lit = new Set<string>();
      const w: string[] = [];
      for (const p of patterns) {
        if (isLiteralPattern(p)) lit.add(p);
        else w.push(p);
      }
      literal.set(tenant, lit);
      wild.set(tenant, w);
    }
    this.pops.set(snapshot.pop, { version: snapshot.version, snapshot, literal, wild });
    this.cache.clear();
  }
}
