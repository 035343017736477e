// The live map's model of the network, built only from what the PoPs publish: PoPs (place,
// status), links (merged from both ends' reports), overlay routes, the per-pair gain of the
// overlay over the direct link, and the anomalies. Pure: time is a parameter, no DOM.
import { LinkBaseline, type Anomaly } from './anomalies.js';
import type { HealthMsg, LinkEntry, NetMsg, RouteEntry } from './messages.js';

/** A PoP with no health report for this long is down (PoPs report every second). */
export const POP_DOWN_AFTER_MS = 2500;
/** Anomalies kept for the list. */
const MAX_ANOMALIES = 200;

export interface PopView {
  id: string;
  city: string | null;
  region: string;
  lat: number | null;
  lon: number | null;
  up: boolean;
  lastSeen: number;
  connections: number;
}

export interface LinkView {
  a: string;
  b: string;
  up: boolean;
  rttMs: number | null;
  jitterMs: number | null;
  loss: number | null;
}

export interface PairView {
  from: string;
  to: string;
  path: string[];
  overlayMs: number;
  directMs: number | null;
  /** direct − overlay, ms (positive: the overlay is faster); null without a direct link. */
  gainMs: number | null;
  gainPct: number | null;
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

export class NetworkModel {
  readonly pops = new Map<string, PopView>();
  /** reporter → its links, as last reported. */
  readonly #linkReports = new Map<string, LinkEntry[]>();
  /** `src>dest` → route. */
  readonly #routes = new Map<string, RouteEntry & { src: string }>();
  readonly #baselines = new Map<string, LinkBaseline>();
  readonly anomalies: Anomaly[] = [];

  ingest(msg: NetMsg, now: number): Anomaly[] {
    const raised: Anomaly[] = [];
    if (msg.kind === 'health') this.#health(msg, now, raised);
    else if (msg.kind === 'links') this.#links(msg.pop, msg.links, now, raised);
    else this.#routesOf(msg.pop, msg.routes, now, raised);
    return this.#keep(raised);
  }

  /** Marks PoPs whose reports stopped as down; call a few times a second. */
  tick(now: number): Anomaly[] {
    const raised: Anomaly[] = [];
    for (const p of this.pops.values()) {
      if (p.up && now - p.lastSeen > POP_DOWN_AFTER_MS) this.#popDown(p, now, `no report for ${((now - p.lastSeen) / 1000).toFixed(1)} s`, raised);
    }
    return this.#keep(raised);
  }

  links(): LinkView[] {
    const out = new Map<string, LinkView>();
    for (const [reporter, entries] of this.#linkReports) {
      const reporterUp = this.pops.get(reporter)?.up ?? false;
      for (const l of entries) {
        const key = pairKey(reporter, l.peer);
        const seen = out.get(key);
        // A link is up only if every live end says so; a dead PoP's last report does not count.
        const up = reporterUp && l.up && (this.pops.get(l.peer)?.up ?? false);
        if (seen === undefined) {
          const [a, b] = reporter < l.peer ? [reporter, l.peer] : [l.peer, reporter];
          out.set(key, { a, b, up, rttMs: l.rttMs, jitterMs: l.jitterMs, loss: l.loss });
        } else {
          seen.up = seen.up && up;
          if (reporterUp) {
            seen.rttMs = maxOf(seen.rttMs, l.rttMs);
            seen.loss = maxOf(seen.loss, l.loss);
            seen.jitterMs = maxOf(seen.jitterMs, l.jitterMs);
          }
        }
      }
    }
    return [...out.values()].sort((x, y) => (x.a + x.b < y.a + y.b ? -1 : 1));
  }

  /** Every reported route of a live PoP, with its gain, best gain first. */
  pairs(): PairView[] {
    const out: PairView[] = [];
    for (const r of this.#routes.values()) {
      if (!(this.pops.get(r.src)?.up ?? false)) continue;
      const gainMs = r.directLatencyMs === null ? null : r.directLatencyMs - r.pathLatencyMs;
      const gainPct = gainMs === null || r.directLatencyMs === null || r.directLatencyMs <= 0 ? null : (gainMs / r.directLatencyMs) * 100;
      out.push({ from: r.src, to: r.dest, path: r.path, overlayMs: r.pathLatencyMs, directMs: r.directLatencyMs, gainMs, gainPct });
    }
    return out.sort((x, y) => (y.gainMs ?? -Infinity) - (x.gainMs ?? -Infinity) || (x.from + x.to < y.from + y.to ? -1 : 1));
  }

  /** Of the pairs with a direct link, how many the overlay makes faster (by more than 0.5 ms). */
  improvedShare(): { improved: number; comparable: number } {
    const comparable = this.pairs().filter((p) => p.gainMs !== null);
    return { improved: comparable.filter((p) => (p.gainMs ?? 0) > 0.5).length, comparable: comparable.length };
  }

  #health(h: HealthMsg, now: number, raised: Anomaly[]): void {
    let p = this.pops.get(h.pop);
    if (p === undefined) {
      p = { id: h.pop, city: h.city, region: h.region, lat: h.lat, lon: h.lon, up: false, lastSeen: now, connections: h.connections };
      this.pops.set(h.pop, p);
      if (h.status === 'up') p.up = true; // first sight: not an event
    }
    Object.assign(p, { city: h.city, region: h.region, lat: h.lat, lon: h.lon, connections: h.connections });
    if (h.status === 'stopping') {
      if (p.up) this.#popDown(p, now, 'stopping', raised);
      return;
    }
    p.lastSeen = now;
    if (!p.up) {
      p.up = true;
      raised.push({ kind: 'pop-up', at: now, place: p.id, magnitude: 'reporting again', pops: [p.id] });
    }
  }

  #popDown(p: PopView, now: number, why: string, raised: Anomaly[]): void {
    p.up = false;
    raised.push({ kind: 'pop-down', at: now, place: p.id, magnitude: why, pops: [p.id] });
  }

  #links(reporter: string, entries: LinkEntry[], now: number, raised: Anomaly[]): void {
    const before = new Map((this.#linkReports.get(reporter) ?? []).map((l) => [l.peer, l]));
    this.#linkReports.set(reporter, entries);
    for (const l of entries) {
      const place = `${reporter}–${l.peer}`;
      const prev = before.get(l.peer);
      if (prev !== undefined && prev.up !== l.up) {
        raised.push({ kind: l.up ? 'link-up' : 'link-down', at: now, place, magnitude: l.up ? `back, RTT ${l.rttMs ?? '?'} ms` : `down (reported by ${reporter})`, pops: [reporter, l.peer] });
      }
      // A PoP all of whose live neighbours lose it is down, without waiting for its silence.
      if (!l.up) this.#checkUnreachable(l.peer, now, raised);
      if (!l.up) continue;
      let b = this.#baselines.get(`${reporter}>${l.peer}`);
      if (b === undefined) this.#baselines.set(`${reporter}>${l.peer}`, (b = new LinkBaseline()));
      const found = b.observe(l.rttMs, l.loss);
      if (found.rtt !== undefined) raised.push({ kind: 'rtt', at: now, place, magnitude: found.rtt, pops: [reporter, l.peer] });
      if (found.loss !== undefined) raised.push({ kind: 'loss', at: now, place, magnitude: found.loss, pops: [reporter, l.peer] });
    }
  }

  #checkUnreachable(pop: string, now: number, raised: Anomaly[]): void {
    const p = this.pops.get(pop);
    if (p === undefined || !p.up) return;
    let neighbours = 0;
    for (const [reporter, entries] of this.#linkReports) {
      if (reporter === pop || !(this.pops.get(reporter)?.up ?? false)) continue;
      const l = entries.find((e) => e.peer === pop);
      if (l === undefined) continue;
      if (l.up) return;
      neighbours++;
    }
    if (neighbours > 0) this.#popDown(p, now, `unreachable from ${neighbours} neighbour${neighbours === 1 ? '' : 's'}`, raised);
  }

  #routesOf(src: string, routes: RouteEntry[], now: number, raised: Anomaly[]): void {
    const seen = new Set<string>();
    for (const r of routes) {
      const key = `${src}>${r.dest}`;
      seen.add(key);
      const prev = this.#routes.get(key);
      if (prev !== undefined && prev.path.join('>') !== r.path.join('>')) {
        raised.push({
          kind: 'route',
          at: now,
          place: `${src}→${r.dest}`,
          magnitude: `${prev.path.join('→')} (${prev.pathLatencyMs.toFixed(0)} ms) → ${r.path.join('→')} (${r.pathLatencyMs.toFixed(0)} ms)`,
          pops: [src, r.dest],
        });
      }
      this.#routes.set(key, { ...r, src });
    }
    for (const key of [...this.#routes.keys()]) if (key.startsWith(`${src}>`) && !seen.has(key)) this.#routes.delete(key);
  }

  #keep(raised: Anomaly[]): Anomaly[] {
    this.anomalies.unshift(...[...raised].reverse());
    if (this.anomalies.length > MAX_ANOMALIES) this.anomalies.length = MAX_ANOMALIES;
    return raised;
  }
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
