// Per-PoP delivery figures over the last minute, for the per-PoP charts: drops by reason and
// rate-limit refusals as per-second series, and the publish→write latency histogram summed over
// the minute. Fed with each PoP's report as it arrives (once a second). Pure.
import type { PopFiguresReport } from './reports.js';

const SECONDS = 60;

export interface PopSeries {
  /** [second, value] points per reason / scope. */
  drops: Map<string, [number, number][]>;
  refusals: Map<string, [number, number][]>;
  latencyBoundsMs: number[];
  /** Per-second histograms of the last minute, [second, counts]. */
  latency: [number, number[]][];
}

export class PopHistory {
  readonly #pops = new Map<string, PopSeries>();

  add(pop: string, f: PopFiguresReport, now: number): void {
    const second = Math.floor(now / 1000);
    let s = this.#pops.get(pop);
    if (s === undefined) this.#pops.set(pop, (s = { drops: new Map(), refusals: new Map(), latencyBoundsMs: f.latencyBoundsMs, latency: [] }));
    push(s.drops, f.dropsPerSec, second);
    push(s.refusals, f.refusalsPerSec, second);
    s.latencyBoundsMs = f.latencyBoundsMs;
    s.latency = s.latency.filter(([sec]) => sec !== second && second - sec < SECONDS);
    s.latency.push([second, f.latencyCounts]);
  }

  pops(): [string, PopSeries][] {
    return [...this.#pops].sort((a, b) => a[0].localeCompare(b[0]));
  }

  /** A PoP's latency histogram summed over the last minute. */
  static latencyTotals(s: PopSeries): number[] {
    const total = new Array<number>(s.latencyBoundsMs.length + 1).fill(0);
    for (const [, counts] of s.latency) counts.forEach((c, i) => (total[i] = (total[i] ?? 0) + c));
    return total;
  }

  /** The latest per-second value of each series, summed (what the card's headline says). */
  static latest(m: Map<string, [number, number][]>): number {
    let sum = 0;
    for (const points of m.values()) sum += points.at(-1)?.[1] ?? 0;
    return sum;
  }
}

function push(m: Map<string, [number, number][]>, values: Record<string, number>, second: number): void {
  for (const key of new Set([...m.keys(), ...Object.keys(values)])) {
    let points = m.get(key);
    if (points === undefined) m.set(key, (points = []));
    const v = values[key] ?? 0;
    const last = points.at(-1);
    if (last !== undefined && last[0] === second) last[1] = v;
    else points.push([second, v]);
    while (points.length > 0 && second - points[0]![0] >= SECONDS) points.shift();
  }
}
