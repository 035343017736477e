// Medians across repeats, the markdown table and the ratios section.
import type { RowResult, Scenario } from './harness.js';

export interface MedianRow {
  broker: string;
  scenario: Scenario;
  runs: number;
  /** Every repeat delivered all it should have (fixed-rate rows); undefined for max rows. */
  lossless: boolean | undefined;
  lost: number;
  deliveredPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  brokerCpuPercent: number;
  /** Broker CPU-seconds per million deliveries (median of the repeats): the machine-independent cost. */
  brokerCpuSecPerMillion: number;
  brokerRssMb: number;
  genCpuPercent: number;
  slowConsumerDelta: number;
}

/** Broker CPU-seconds per million deliveries of one row: CPU % / 100 ÷ delivered msg/s × 10⁶. */
export function cpuSecPerMillion(r: Pick<RowResult, 'brokerCpuPercent' | 'deliveredPerSec'>): number {
  return r.deliveredPerSec > 0 ? (r.brokerCpuPercent / 100 / r.deliveredPerSec) * 1e6 : Number.NaN;
}

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export function medianRow(broker: string, scenario: Scenario, runs: readonly RowResult[]): MedianRow {
  const m = (f: (r: RowResult) => number): number => median(runs.map(f));
  const rate = scenario.mode === 'rate';
  return {
    broker,
    scenario,
    runs: runs.length,
    lossless: rate ? runs.every((r) => r.delivered === r.expected) : undefined,
    lost: rate ? runs.reduce((s, r) => s + (r.expected - r.delivered), 0) : 0,
    deliveredPerSec: m((r) => r.deliveredPerSec),
    p50Ms: m((r) => r.p50Ms),
    p99Ms: m((r) => r.p99Ms),
    maxMs: m((r) => r.maxMs),
    brokerCpuPercent: m((r) => r.brokerCpuPercent),
    brokerCpuSecPerMillion: m(cpuSecPerMillion),
    brokerRssMb: m((r) => r.brokerRssMb),
    genCpuPercent: m((r) => r.genCpuPercent),
    slowConsumerDelta: m((r) => r.slowConsumerDelta),
  };
}

function fmt(x: number, digits: number): string {
  if (Number.isNaN(x)) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), sep, ...rows.map(line)].join('\n');
}

export function renderTable(rows: readonly MedianRow[]): string {
  return table(
    ['broker', 'scenario', 'delivered msg/s', 'p50 ms', 'p99 ms', 'max ms', 'broker CPU %', 'CPU-s / M', 'broker RSS MB', 'lost', 'gen CPU %'],
    rows.map((r) => [
      r.broker,
      r.scenario.label,
      fmt(r.deliveredPerSec, 0),
      fmt(r.p50Ms, 3),
      fmt(r.p99Ms, 3),
      fmt(r.maxMs, 2),
      fmt(r.brokerCpuPercent, 0),
      fmt(r.brokerCpuSecPerMillion, 2),
      fmt(r.brokerRssMb, 1),
      r.lossless === undefined ? '-' : String(r.lost),
      fmt(r.genCpuPercent, 0),
    ]),
  );
}

export interface Ratio {
  name: string;
  value: number;
  target: string;
  met: boolean | undefined;
}

export function ratios(rows: readonly MedianRow[]): Ratio[] {
  const get = (broker: string, key: string): MedianRow | undefined =>
    rows.find((r) => r.broker === broker && r.scenario.key === key);
  const out: Ratio[] = [];
  const fps = get('fastpubsub', 'max-f100');
  const nats = get('nats', 'max-f100');
  if (fps !== undefined && nats !== undefined) {
    const v = fps.deliveredPerSec / nats.deliveredPerSec;
    out.push({ name: 'FastPubSub / NATS delivered msg/s, fan-out 100, max throughput', value: v, target: '>= 1.0', met: v >= 1.0 });
  }
  const fpsRate = get('fastpubsub', 'rate-f100');
  const natsRate = get('nats', 'rate-f100');
  if (fpsRate !== undefined && natsRate !== undefined) {
    const v = fpsRate.deliveredPerSec / natsRate.deliveredPerSec;
    out.push({ name: 'FastPubSub / NATS delivered msg/s, fan-out 100, fixed rate', value: v, target: '(both should deliver everything: 1.0)', met: undefined });
    const p = fpsRate.p99Ms / natsRate.p99Ms;
    out.push({ name: 'FastPubSub / NATS p99, fan-out 100, fixed rate', value: p, target: '(lower is better)', met: undefined });
  }
  // CPU per delivery against nats-server, every row both brokers ran (lower is better).
  for (const row of rows) {
    if (row.broker !== 'fastpubsub' || row.scenario.stalled) continue;
    const other = get('nats', row.scenario.key);
    if (other === undefined) continue;
    const v = row.brokerCpuSecPerMillion / other.brokerCpuSecPerMillion;
    out.push({ name: `FastPubSub / NATS CPU-s per million deliveries, ${row.scenario.label}`, value: v, target: '<= 1.0', met: v <= 1.0 });
  }
  for (const broker of ['fastpubsub', 'nats']) {
    const stalled = get(broker, 'rate-f10-stalled');
    const base = get(broker, 'rate-f10');
    if (stalled !== undefined && base !== undefined) {
      const v = stalled.p99Ms / base.p99Ms;
      out.push({ name: `${broker}: stalled p99 / unstalled p99, fan-out 10`, value: v, target: '<= 1.2', met: v <= 1.2 });
    }
  }
  return out;
}

export function renderRatios(rs: readonly Ratio[]): string {
  if (rs.length === 0) return '(no ratios: run both brokers and fan-out 10 and 100)';
  return rs
    .map((r) => `- ${r.name}: ${fmt(r.value, 2)} (target ${r.target}${r.met === undefined ? '' : r.met ? ', met' : ', NOT met'})`)
    .join('\n');
}

/** What each broker's own counters say about the stalled subscriber (medians). */
export function renderStallNotes(rows: readonly MedianRow[]): string {
  const lines: string[] = [];
  for (const r of rows) {
    if (!r.scenario.stalled) continue;
    const what = r.broker === 'nats' ? 'slow consumers counted by nats-server (/varz)' : 'messages dropped for the slow consumer by the relay (/metrics)';
    lines.push(`- ${r.broker}, ${r.scenario.label}: ${fmt(r.slowConsumerDelta, 0)} ${what}`);
  }
  return lines.join('\n');
}
