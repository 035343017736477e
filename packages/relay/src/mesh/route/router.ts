// One relay's distance-vector router over measured link latency. Pure and event-driven in the
// quinn-proto style: inputs (link up/down/metrics, received adverts) only record facts and mark
// the table dirty; tick(nowMs) makes every decision (route selection, hysteresis, withdrawals)
// and returns the adverts to send. Call tick after any input and again at nextDeadline().
// Protocol rules (sequence numbers, poison reverse, path vector, hysteresis): docs/routing.md.

import type { AdvertEntry, OutgoingAdvert, RouteAdvert } from './advert.js';
import type { LinkMetrics } from './cost.js';
import {
  resolveRouterOptions,
  samePath,
  type Advertised,
  type Candidate,
  type Neighbour,
  type NeighbourInfo,
  type ResolvedRouterOptions,
  type Route,
  type RouteChange,
  type RouterOptions,
  type Selected,
  type TickResult,
} from './router-types.js';

export type { RouterOptions, Route, RouteChange, NeighbourInfo, TickResult } from './router-types.js';

export class Router {
  readonly id: string;
  private readonly o: ResolvedRouterOptions;

  private ownSeq: number;
  private readonly nbrs = new Map<string, Neighbour>();
  /** Highest sequence number seen per destination (the DSDV freshness bar). */
  private readonly seqSeen = new Map<string, number>();
  private readonly table = new Map<string, Selected>();
  /** Destinations we lost, advertised with their odd sequence number until forgotten. */
  private readonly broken = new Map<string, { seq: number; since: number }>();
  private readonly advertised = new Map<string, Advertised>();
  private readonly pending = new Set<string>();
  private lastTriggerAt = -Infinity;
  private nextPeriodicAt = -Infinity;
  /** Destinations whose selection must run again; `dirtyAll` after topology changes. */
  private dirtyAll = true;
  private readonly dirty = new Set<string>();
  private nextWake = Infinity;

  constructor(options: RouterOptions) {
    this.id = options.id;
    this.o = resolveRouterOptions(options);
    const seq = Math.max(0, Math.ceil(options.initialSeq ?? 0));
    this.ownSeq = seq % 2 === 0 ? seq : seq + 1;
  }

  // ---- inputs --------------------------------------------------------------------------

  /** A link to `neighbour` is usable; the neighbour gets our full table at the next tick. */
  linkUp(neighbour: string, metrics: LinkMetrics, nowMs: number): void {
    if (neighbour === this.id) return;
    this.nbrs.set(neighbour, {
      metrics,
      cost: this.o.costOf(metrics),
      rib: new Map(),
      lastHeardAt: nowMs,
      needsFull: true,
    });
    this.dirtyAll = true;
  }

  /** New smoothed measurements for an up link (ignored for unknown links). */
  linkMetrics(neighbour: string, metrics: LinkMetrics): void {
    const n = this.nbrs.get(neighbour);
    if (n === undefined) return;
    n.metrics = metrics;
    const cost = this.o.costOf(metrics);
    // Probe noise moves the cost a little on every reply; re-deciding on every wiggle costs
    // CPU and buys nothing, as the switch and trigger margins are far coarser than this.
    if (Math.abs(cost - n.cost) <= Math.max(this.o.metricEpsilonMs, 0.005 * n.cost)) return;
    n.cost = cost;
    // Only destinations this link can matter for: routed over it, waiting out a hold, or
    // where the path over it now beats the current one by the switch margin.
    for (const [dest, s] of this.table) {
      if (s.nextHop === neighbour || s.betterSince !== undefined) this.dirty.add(dest);
      else if (this.costVia(neighbour, n, dest) < s.cost - this.switchMargin(s.cost)) this.dirty.add(dest);
    }
    for (const dest of n.rib.keys()) if (!this.table.has(dest)) this.dirty.add(dest);
    if (!this.table.has(neighbour)) this.dirty.add(neighbour);
  }

  /** Cost of reaching `dest` over `via` if that candidate is eligible, else Infinity. */
  private costVia(via: string, n: Neighbour, dest: string): number {
    if (via === dest) return n.cost;
    const e = n.rib.get(dest);
    if (e === undefined || !this.eligible(via, e)) return Infinity;
    return n.cost + this.o.hopCostMs + e.cost;
  }

  private eligible(via: string, e: AdvertEntry): boolean {
    if (!Number.isFinite(e.cost) || e.seq % 2 === 1 || e.seq < (this.seqSeen.get(e.dest) ?? -1)) return false;
    return e.path[0] === via && e.path[e.path.length - 1] === e.dest && !e.path.includes(this.id);
  }

  /** The link is dead: everything learned through it is dropped at once. */
  linkDown(neighbour: string): void {
    if (this.nbrs.delete(neighbour)) this.dirtyAll = true;
  }

  /** An advert received on the link to `from` (adverts on links that are not up are ignored). */
  receive(from: string, advert: RouteAdvert, nowMs: number): void {
    const n = this.nbrs.get(from);
    if (n === undefined || advert.from !== from) return;
    n.lastHeardAt = nowMs;
    const old = n.rib;
    if (advert.full) {
      n.rib = new Map();
      const listed = new Set(advert.entries.map((e) => e.dest));
      for (const d of old.keys()) if (!listed.has(d)) this.dirty.add(d);
    }
    for (const e of advert.entries) {
      if (e.dest === this.id) {
        // Someone carries a newer number for us (we restarted, or a break was reported while
        // we are alive): re-assert with a higher even number so the network believes us again.
        if (e.seq >= this.ownSeq && (e.seq > this.ownSeq || e.seq % 2 === 1)) {
          this.ownSeq = e.seq % 2 === 0 ? e.seq + 2 : e.seq + 1;
          this.pending.add(this.id);
        }
        continue;
      }
      const prev = old.get(e.dest);
      n.rib.set(e.dest, e);
      if (prev === undefined || prev.seq !== e.seq || prev.cost !== e.cost || !samePath(prev.path, e.path)) this.dirty.add(e.dest);
      if (e.seq > (this.seqSeen.get(e.dest) ?? -1)) this.seqSeen.set(e.dest, e.seq);
    }
  }

  // ---- decisions -----------------------------------------------------------------------

  tick(nowMs: number): TickResult {
    const changes: RouteChange[] = [];
    this.nextWake = Infinity;
    this.expire(nowMs);
    // Hysteresis timers that are due: selection must run again even without new input.
    for (const [dest, s] of this.table) if (s.holdDeadline !== undefined && nowMs >= s.holdDeadline) this.dirty.add(dest);
    const todo = this.dirtyAll ? this.destinations() : new Set(this.dirty);
    this.dirtyAll = false;
    this.dirty.clear();
    todo.delete(this.id);
    for (const dest of todo) this.select(dest, nowMs, changes);
    this.collectSignificant(todo);
    this.nextWake = Math.min(this.nextWake, this.nextHoldDeadline());
    const adverts = this.emit(nowMs);
    return { adverts, changes };
  }

  /** When tick must run next (ms, absolute); Infinity if only an input can change anything. */
  nextDeadline(): number {
    if (this.dirtyAll || this.dirty.size > 0) return -Infinity;
    return this.nextWake;
  }

  private destinations(): Set<string> {
    const out = new Set<string>(this.table.keys());
    for (const [id, n] of this.nbrs) {
      out.add(id);
      for (const d of n.rib.keys()) out.add(d);
    }
    out.delete(this.id);
    return out;
  }

  /** Eligible ways to reach `dest`: loop-free (path vector), fresh (seq), reachable. */
  private candidates(dest: string): Candidate[] {
    const bar = this.seqSeen.get(dest) ?? -1;
    const out: Candidate[] = [];
    for (const [via, n] of this.nbrs) {
      if (via === dest) {
        // The destination itself on a live link is ground truth, whatever numbers float around.
        const seq = n.rib.get(dest)?.seq ?? (bar < 0 ? 0 : bar - (bar % 2));
        out.push({ via, cost: n.cost, tail: undefined, seq });
        continue;
      }
      const e = n.rib.get(dest);
      if (e === undefined || !this.eligible(via, e)) continue;
      out.push({ via, cost: n.cost + this.o.hopCostMs + e.cost, tail: e.path, seq: e.seq });
    }
    return out;
  }

  private candidate(dest: string, via: string, cost: number): Candidate {
    const n = this.nbrs.get(via) as Neighbour;
    if (via === dest) {
      const bar = this.seqSeen.get(dest) ?? -1;
      return { via, cost, tail: undefined, seq: n.rib.get(dest)?.seq ?? (bar < 0 ? 0 : bar - (bar % 2)) };
    }
    const e = n.rib.get(dest) as AdvertEntry;
    return { via, cost, tail: e.path, seq: e.seq };
  }

  private pathOf(c: Candidate): readonly string[] {
    return c.tail === undefined ? [this.id, c.via] : [this.id, ...c.tail];
  }

  private select(dest: string, nowMs: number, changes: RouteChange[]): void {
    const cur = this.table.get(dest);
    // One allocation-free pass (this is the hot loop of the router): costs only, then build
    // the two candidates that matter.
    let bestVia: string | undefined;
    let bestCost = Infinity;
    let mineCost = Infinity;
    for (const [via, n] of this.nbrs) {
      const c = this.costVia(via, n, dest);
      if (c === Infinity) continue;
      if (c < bestCost || (c === bestCost && bestVia !== undefined && via < bestVia)) {
        bestCost = c;
        bestVia = via;
      }
      if (via === cur?.nextHop) mineCost = c;
    }
    const best = bestVia === undefined ? undefined : this.candidate(dest, bestVia, bestCost);
    const mine = cur === undefined || mineCost === Infinity ? undefined : this.candidate(dest, cur.nextHop, mineCost);
    if (cur === undefined || mine === undefined) {
      if (best !== undefined) this.install(dest, best, nowMs, cur?.nextHop, changes);
      else if (cur !== undefined) this.withdraw(dest, cur, nowMs, changes);
      return;
    }
    cur.cost = mine.cost;
    if (mine.tail !== cur.tail) {
      // A refresh carries new arrays with the same content; keep the old one so that path
      // identity means "unchanged" everywhere else.
      cur.tail = mine.tail;
      const path = this.pathOf(mine);
      if (!samePath(path, cur.path)) cur.path = path;
    }
    cur.seq = mine.seq;
    cur.refCost = Math.min(cur.refCost, mine.cost);
    if (best === undefined || best.via === cur.nextHop || best.cost >= cur.cost - this.switchMargin(cur.cost)) {
      cur.betterSince = undefined;
      cur.holdDeadline = undefined;
      return;
    }
    const worse = cur.cost > cur.refCost + this.switchMargin(cur.refCost);
    cur.betterSince ??= nowMs;
    cur.holdDeadline = cur.betterSince + (worse ? this.o.degradedHoldMs : this.o.switchHoldMs);
    if (nowMs >= cur.holdDeadline) this.install(dest, best, nowMs, cur.nextHop, changes);
  }

  private install(dest: string, c: Candidate, nowMs: number, from: string | undefined, out: RouteChange[]): void {
    this.table.set(dest, {
      nextHop: c.via,
      cost: c.cost,
      path: this.pathOf(c),
      tail: c.tail,
      seq: c.seq,
      sinceMs: nowMs,
      refCost: c.cost,
      betterSince: undefined,
      holdDeadline: undefined,
    });
    this.broken.delete(dest);
    this.pending.add(dest);
    if (from !== c.via) out.push({ dest, from, to: c.via, cost: c.cost, atMs: nowMs });
  }

  /** No loop-free fresh path left: report the destination broken with an odd number. */
  private withdraw(dest: string, cur: Selected, nowMs: number, out: RouteChange[]): void {
    this.table.delete(dest);
    const seen = Math.max(this.seqSeen.get(dest) ?? -1, cur.seq);
    const seq = seen % 2 === 0 ? seen + 1 : seen;
    this.seqSeen.set(dest, seq);
    this.broken.set(dest, { seq, since: nowMs });
    this.pending.add(dest);
    out.push({ dest, from: cur.nextHop, to: undefined, cost: Infinity, atMs: nowMs });
  }

  private switchMargin(cost: number): number {
    return Math.max(this.o.switchMarginMs, this.o.switchMarginRatio * cost);
  }

  private nextHoldDeadline(): number {
    let t = Infinity;
    for (const s of this.table.values()) if (s.holdDeadline !== undefined) t = Math.min(t, s.holdDeadline);
    return t;
  }

  private expire(nowMs: number): void {
    for (const n of this.nbrs.values()) {
      if (n.rib.size > 0 && nowMs >= n.lastHeardAt + this.o.routeTimeoutMs) {
        n.rib.clear();
        this.dirtyAll = true;
      }
      if (n.rib.size > 0) this.nextWake = Math.min(this.nextWake, n.lastHeardAt + this.o.routeTimeoutMs);
    }
    for (const [d, b] of this.broken) {
      if (nowMs >= b.since + this.o.forgetAfterMs) {
        this.broken.delete(d);
        this.advertised.delete(d);
      } else {
        this.nextWake = Math.min(this.nextWake, b.since + this.o.forgetAfterMs);
      }
    }
  }

  // ---- adverts -------------------------------------------------------------------------

  private emit(nowMs: number): OutgoingAdvert[] {
    const out: OutgoingAdvert[] = [];
    if (nowMs >= this.nextPeriodicAt) {
      this.nextPeriodicAt = nowMs + this.o.advertIntervalMs;
      for (const to of this.nbrs.keys()) out.push({ to, advert: this.advert(to, true, undefined) });
      for (const n of this.nbrs.values()) n.needsFull = false;
      this.markAllAdvertised();
    } else {
      for (const [to, n] of this.nbrs) {
        if (!n.needsFull) continue;
        n.needsFull = false;
        out.push({ to, advert: this.advert(to, true, undefined) });
      }
      if (this.pending.size > 0) {
        const at = this.lastTriggerAt + this.o.triggerMinIntervalMs;
        if (nowMs >= at) {
          this.lastTriggerAt = nowMs;
          const only = new Set(this.pending);
          for (const to of this.nbrs.keys()) out.push({ to, advert: this.advert(to, false, only) });
          for (const d of only) this.markAdvertised(d);
        } else {
          this.nextWake = Math.min(this.nextWake, at);
        }
      }
    }
    this.nextWake = Math.min(this.nextWake, this.nextPeriodicAt);
    return out;
  }

  /** Queues destinations whose state moved enough since it was last advertised. */
  private collectSignificant(dests: ReadonlySet<string>): void {
    for (const d of dests) {
      const s = this.table.get(d);
      if (s === undefined) continue;
      const a = this.advertised.get(d);
      if (a === undefined || a.seq !== s.seq || a.path !== s.path) this.pending.add(d);
      else if (Math.abs(a.cost - s.cost) > Math.max(this.o.triggerMarginMs, this.o.triggerMarginRatio * a.cost)) this.pending.add(d);
    }
    // Withdrawals queue themselves (withdraw adds to pending).
  }

  private markAdvertised(d: string): void {
    this.pending.delete(d);
    if (d === this.id) return;
    const s = this.table.get(d);
    if (s !== undefined) this.advertised.set(d, { seq: s.seq, cost: s.cost, path: s.path });
    else {
      const b = this.broken.get(d);
      if (b !== undefined) this.advertised.set(d, { seq: b.seq, cost: Infinity, path: [] });
      else this.advertised.delete(d);
    }
  }

  private markAllAdvertised(): void {
    this.advertised.clear();
    for (const d of this.table.keys()) this.markAdvertised(d);
    for (const d of this.broken.keys()) this.markAdvertised(d);
    this.pending.clear();
  }

  private advert(to: string, full: boolean, only: ReadonlySet<string> | undefined): RouteAdvert {
    const entries: AdvertEntry[] = [];
    const want = (d: string): boolean => only === undefined || only.has(d);
    if (want(this.id)) entries.push({ dest: this.id, seq: this.ownSeq, cost: 0, path: [this.id] });
    for (const [dest, s] of this.table) {
      if (!want(dest)) continue;
      if (s.nextHop === to) {
        // Poison reverse, carrying the freshest number we know (lets a restarted `to` re-assert).
        entries.push({ dest, seq: Math.max(s.seq, this.seqSeen.get(dest) ?? 0), cost: Infinity, path: [] });
      } else {
        entries.push({ dest, seq: s.seq, cost: s.cost, path: s.path });
      }
    }
    for (const [dest, b] of this.broken) if (want(dest)) entries.push({ dest, seq: b.seq, cost: Infinity, path: [] });
    // A delta that only carries withdrawals of destinations we never announced is still sent:
    // cheap, and it keeps the rule "every pending change reaches every neighbour" simple.
    return { from: this.id, full, entries };
  }

  // ---- introspection -------------------------------------------------------------------

  route(dest: string): Route | undefined {
    const s = this.table.get(dest);
    if (s === undefined) return undefined;
    return {
      dest,
      nextHop: s.nextHop,
      cost: s.cost,
      path: s.path,
      seq: s.seq,
      directCost: this.nbrs.get(dest)?.cost,
      sinceMs: s.sinceMs,
    };
  }

  nextHop(dest: string): string | undefined {
    return this.table.get(dest)?.nextHop;
  }

  /** All installed routes, sorted by destination. */
  routes(): Route[] {
    return [...this.table.keys()].sort().map((d) => this.route(d) as Route);
  }

  hasNeighbour(id: string): boolean {
    return this.nbrs.has(id);
  }

  neighbours(): NeighbourInfo[] {
    return [...this.nbrs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, n]) => ({ id, cost: n.cost, metrics: n.metrics }));
  }

  /** Own DSDV sequence number (even). */
  get seq(): number {
    return this.ownSeq;
  }

  /**
   * Best route to `dest` whose intermediate relays are disjoint from the primary's, for
   * optional two-path redundancy. Ignores hysteresis (it is a spare, not the main path).
   */
  alternate(dest: string): Route | undefined {
    const primary = this.table.get(dest);
    if (primary === undefined) return undefined;
    const used = new Set(primary.path.slice(1, -1));
    let best: Candidate | undefined;
    for (const c of this.candidates(dest)) {
      // Disjoint from every relay of the primary path, the first hop included.
      if (c.via === primary.nextHop || used.has(c.via) || (c.tail ?? []).slice(0, -1).some((p) => used.has(p))) continue;
      if (best === undefined || c.cost < best.cost) best = c;
    }
    if (best === undefined) return undefined;
    return {
      dest,
      nextHop: best.via,
      cost: best.cost,
      path: this.pathOf(best),
      seq: best.seq,
      directCost: this.nbrs.get(dest)?.cost,
      sinceMs: primary.sinceMs,
    };
  }
}
