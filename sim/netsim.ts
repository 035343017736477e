// A deterministic in-memory network of Routers: a discrete-event loop with per-link delays
// that delivers adverts and drives tick(). Pure (simulated clock, injected PRNG), so the unit
// tests and the world simulation (sim/) exercise the production routing code the same way.
// Two measurement modes: `instant` hands each router the true link metrics (tests that want
// exact numbers), `probe` runs LinkHealth on simulated probes, so failures are detected the way
// a real relay detects them.

import { encodeAdvert, LinkHealth, Router, type LinkHealthOptions, type RouteAdvert, type RouteChange, type RouterOptions } from '@fastpubsub/relay';

/** Min-heap of timed callbacks; ties run in scheduling order, so runs are reproducible. */
export class EventQueue {
  private heap: Array<{ at: number; n: number; fn: () => void }> = [];
  private counter = 0;
  private _now = 0;

  get now(): number {
    return this._now;
  }

  at(timeMs: number, fn: () => void): void {
    const item = { at: Math.max(timeMs, this._now), n: this.counter++, fn };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(item, h[p] as typeof item)) break;
      h[i] = h[p] as typeof item;
      i = p;
    }
    h[i] = item;
  }

  /** Runs every event scheduled up to and including `timeMs`, then sets the clock there. */
  runUntil(timeMs: number): void {
    const h = this.heap;
    while (h.length > 0 && (h[0] as { at: number }).at <= timeMs) {
      const top = h[0] as (typeof h)[number];
      const last = h.pop() as (typeof h)[number];
      if (h.length > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          let mv = last;
          if (l < h.length && before(h[l] as typeof last, mv)) {
            m = l;
            mv = h[l] as typeof last;
          }
          if (r < h.length && before(h[r] as typeof last, mv)) m = r;
          if (m === i) break;
          h[i] = h[m] as typeof last;
          i = m;
        }
        h[i] = last;
      }
      this._now = top.at;
      top.fn();
    }
    this._now = Math.max(this._now, timeMs);
  }
}

function before(a: { at: number; n: number }, b: { at: number; n: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.n < b.n);
}

/** mulberry32: small, fast, seedable; good enough for simulation noise. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimLinkProps {
  /** True one-way latency, ms. */
  oneWayMs: number;
  /** Mean extra one-way delay (uniform in [0, 2·jitter]), ms. */
  jitterMs?: number;
  /** Per-packet loss ratio each way. */
  loss?: number;
}

export interface RouterNetworkOptions {
  readonly router?: Omit<RouterOptions, 'id'>;
  readonly seed?: number;
  /** 'instant': routers see true metrics; failures are noticed after `detectMs`. */
  readonly measurement?: 'instant' | 'probe';
  readonly detectMs?: number;
  /** Probe mode: interval between probes per link and direction. Default 500 ms. */
  readonly probeIntervalMs?: number;
  readonly health?: LinkHealthOptions;
  /** Count encoded advert bytes (costs CPU; off by default). */
  readonly countBytes?: boolean;
}

interface LinkState extends Required<SimLinkProps> {
  up: boolean;
  /** Per direction, the last delivery time, so adverts on one link stay in order (a stream). */
  lastDelivery: Map<string, number>;
}

export interface NodeStats {
  adverts: number;
  bytes: number;
  entries: number;
}

export class RouterNetwork {
  readonly clock = new EventQueue();
  readonly routers = new Map<string, Router>();
  readonly changes: Array<RouteChange & { node: string }> = [];
  readonly stats = new Map<string, NodeStats>();
  /** Every linkDown handed to a router: when each side noticed a failure. */
  readonly downEvents: Array<{ node: string; neighbour: string; atMs: number }> = [];
  private readonly links = new Map<string, LinkState>();
  private readonly alive = new Set<string>();
  private readonly wakeAt = new Map<string, number>();
  private readonly health = new Map<string, LinkHealth>();
  private readonly rand: () => number;
  private probeId = 0;

  constructor(private readonly options: RouterNetworkOptions = {}) {
    this.rand = seededRandom(options.seed ?? 1);
  }

  get now(): number {
    return this.clock.now;
  }

  addNode(id: string, routerOptions?: Omit<RouterOptions, 'id'>): Router {
    const r = new Router({ ...this.options.router, ...routerOptions, id });
    this.routers.set(id, r);
    this.alive.add(id);
    this.stats.set(id, { adverts: 0, bytes: 0, entries: 0 });
    this.poke(id);
    return r;
  }

  router(id: string): Router {
    const r = this.routers.get(id);
    if (r === undefined) throw new Error(`no router ${id}`);
    return r;
  }

  addLink(a: string, b: string, props: SimLinkProps): void {
    const l: LinkState = { oneWayMs: props.oneWayMs, jitterMs: props.jitterMs ?? 0, loss: props.loss ?? 0, up: true, lastDelivery: new Map() };
    this.links.set(key(a, b), l);
    if (this.options.measurement === 'probe') {
      this.startProbing(a, b);
      this.startProbing(b, a);
    } else {
      this.instantUp(a, b, l);
      this.instantUp(b, a, l);
    }
  }

  /** Changes a link's true properties; in instant mode the routers see them at once. */
  setLink(a: string, b: string, props: Partial<SimLinkProps>): void {
    const l = this.link(a, b);
    Object.assign(l, props);
    if (this.options.measurement !== 'probe' && l.up) {
      for (const [x, y] of [[a, b], [b, a]] as const) {
        if (!this.alive.has(x)) continue;
        this.router(x).linkMetrics(y, metricsOf(l));
        this.poke(x);
      }
    }
  }

  /** Cuts a link; routers notice after detectMs (instant mode) or by missing probes. */
  failLink(a: string, b: string): void {
    const l = this.link(a, b);
    l.up = false;
    if (this.options.measurement !== 'probe') {
      const at = this.now + (this.options.detectMs ?? 0);
      for (const [x, y] of [[a, b], [b, a]] as const) this.clock.at(at, () => this.downIfStillDown(x, y));
    }
  }

  /** Restores a cut link; instant mode brings it up at once, probe mode after replies. */
  restoreLink(a: string, b: string): void {
    const l = this.link(a, b);
    if (l.up) return;
    l.up = true;
    if (this.options.measurement !== 'probe') {
      this.instantUp(a, b, l);
      this.instantUp(b, a, l);
    }
  }

  /** Stops a node: its links go silent, neighbours detect it like any failed link. */
  killNode(id: string): void {
    this.alive.delete(id);
    for (const k of this.links.keys()) {
      const [a, b] = k.split('\u0000') as [string, string];
      if (a === id || b === id) this.failLink(a, b);
    }
  }

  runUntil(timeMs: number): void {
    this.clock.runUntil(timeMs);
  }

  isLinkUp(a: string, b: string): boolean {
    return this.links.get(key(a, b))?.up ?? false;
  }

  isAlive(id: string): boolean {
    return this.alive.has(id);
  }

  /** True one-way latency of a link (for reports), undefined if there is no such link. */
  trueLink(a: string, b: string): Readonly<Required<SimLinkProps>> | undefined {
    return this.links.get(key(a, b));
  }

  // ---- internals -----------------------------------------------------------------------

  private link(a: string, b: string): LinkState {
    const l = this.links.get(key(a, b));
    if (l === undefined) throw new Error(`no link ${a}-${b}`);
    return l;
  }

  private instantUp(x: string, y: string, l: LinkState): void {
    if (!this.alive.has(x) || !this.alive.has(y)) return;
    this.router(x).linkUp(y, metricsOf(l), this.now);
    this.poke(x);
  }

  private downIfStillDown(x: string, y: string): void {
    const l = this.links.get(key(x, y));
    if (l === undefined || l.up || !this.alive.has(x)) return;
    this.router(x).linkDown(y);
    this.downEvents.push({ node: x, neighbour: y, atMs: this.now });
    this.poke(x);
  }

  /** Runs the router now and schedules its next wake-up. */
  private poke(id: string): void {
    if (!this.alive.has(id)) return;
    const r = this.router(id);
    const now = this.now;
    const out = r.tick(now);
    for (const c of out.changes) this.changes.push({ ...c, node: id });
    for (const { to, advert } of out.adverts) this.send(id, to, advert);
    const next = r.nextDeadline();
    if (next === Infinity) return;
    const at = Math.max(next, now);
    const scheduled = this.wakeAt.get(id);
    if (scheduled !== undefined && scheduled <= at && scheduled >= now) return;
    this.wakeAt.set(id, at);
    this.clock.at(at, () => {
      if (this.wakeAt.get(id) !== at) return; // superseded by an earlier wake-up
      this.wakeAt.delete(id);
      this.poke(id);
    });
  }

  private send(from: string, to: string, advert: RouteAdvert): void {
    const l = this.links.get(key(from, to));
    if (l === undefined || !l.up) return;
    const s = this.stats.get(from) as NodeStats;
    s.adverts += 1;
    s.entries += advert.entries.length;
    if (this.options.countBytes === true) s.bytes += encodeAdvert(advert).length;
    // Adverts ride a reliable ordered stream: loss shows up as a retransmission delay.
    let delay = this.oneWay(l);
    if (l.loss > 0 && this.rand() < l.loss) delay += 2 * l.oneWayMs + 4 * l.jitterMs;
    const dir = `${from}>${to}`;
    const at = Math.max(this.now + delay, l.lastDelivery.get(dir) ?? 0);
    l.lastDelivery.set(dir, at);
    this.clock.at(at, () => {
      if (!l.up || !this.alive.has(to)) return;
      this.router(to).receive(from, advert, this.now);
      this.poke(to);
    });
  }

  private oneWay(l: LinkState): number {
    return l.oneWayMs + (l.jitterMs > 0 ? 2 * l.jitterMs * this.rand() : 0);
  }

  private startProbing(x: string, y: string): void {
    const hk = `${x}>${y}`;
    if (this.health.has(hk)) return;
    const h = new LinkHealth(this.options.health);
    this.health.set(hk, h);
    const interval = this.options.probeIntervalMs ?? 500;
    const probe = (): void => {
      if (!this.alive.has(x)) return;
      const l = this.links.get(key(x, y)) as LinkState;
      const id = ++this.probeId;
      h.probeSent(id, this.now);
      if (l.up && this.rand() >= l.loss && this.rand() >= l.loss) {
        const rtt = this.oneWay(l) + this.oneWay(l);
        this.clock.at(this.now + rtt, () => {
          h.probeReply(id, this.now);
          this.observe(x, y, h);
        });
      }
      this.observe(x, y, h);
      this.clock.at(this.now + interval, probe);
    };
    this.clock.at(this.now + this.rand() * interval, probe);
  }

  /** Feeds LinkHealth's verdict and metrics to the router, like the link layer would. */
  private observe(x: string, y: string, h: LinkHealth): void {
    if (!this.alive.has(x)) return;
    const r = this.router(x);
    const after = h.tick(this.now);
    const m = h.metrics();
    const known = r.hasNeighbour(y);
    if (after === 'up' && m !== undefined) {
      if (!known) r.linkUp(y, m, this.now);
      else r.linkMetrics(y, m);
    } else if (after === 'dead' && known) {
      r.linkDown(y);
      this.downEvents.push({ node: x, neighbour: y, atMs: this.now });
    }
    this.poke(x);
  }
}

function key(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

function metricsOf(l: Required<SimLinkProps>): { rttMs: number; jitterMs: number; loss: number } {
  return { rttMs: 2 * l.oneWayMs + 2 * l.jitterMs, jitterMs: l.jitterMs, loss: l.loss };
}
