// The loss table: one row per (loss level, scenario, broker), and the QUIC target check. Pure.
import type { BrokerName } from '../fanout/adapter.js';
import type { RowResult } from '../fanout/harness.js';

export interface LossRow {
  lossPct: number;
  scenarioLabel: string;
  result: RowResult;
}

/** Packets the nft rule dropped during one loss level. */
export interface LossLevelNote {
  lossPct: number;
  droppedPackets: number;
}

export const BROKER_LABEL: Record<BrokerName, string> = {
  'fastpubsub-quic': 'FastPubSub QUIC edge',
  fastpubsub: 'FastPubSub WebSocket edge',
  nats: 'NATS',
  redis: 'Redis',
};

export const TARGET_P99_MS = 15;
export const TARGET_LOSS_PCT = 10;

function brokerLabel(name: string): string {
  return (BROKER_LABEL as Record<string, string | undefined>)[name] ?? name;
}

export function fmtMs(x: number): string {
  if (Number.isNaN(x)) return '-';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** `delivered/expected`, with the percentage when something is missing. */
export function fmtDelivered(r: RowResult): string {
  const base = `${r.delivered.toLocaleString('en-US')}/${r.expected.toLocaleString('en-US')}`;
  if (r.delivered === r.expected || !(r.expected > 0)) return base;
  return `${base} (${((100 * r.delivered) / r.expected).toFixed(1)} %)`;
}

function table(header: string[], rows: string[][], leftColumns: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i < leftColumns ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), sep, ...rows.map(line)].join('\n');
}

/** Rows in the order given (the runner's order: loss level, then scenario, then broker). */
export function renderLossTable(rows: readonly LossRow[]): string {
  return table(
    ['loss', 'scenario', 'broker', 'delivered/expected', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'],
    rows.map(({ lossPct, scenarioLabel, result: r }) => [
      `${lossPct} %`,
      scenarioLabel,
      brokerLabel(r.broker),
      fmtDelivered(r),
      fmtMs(r.p50Ms),
      fmtMs(r.p90Ms),
      fmtMs(r.p99Ms),
      fmtMs(r.p999Ms),
      fmtMs(r.maxMs),
    ]),
    3,
  );
}

export interface TargetCheck {
  scenarioLabel: string;
  p99Ms: number;
  met: boolean;
}

/** The QUIC edge's p99 at 10 % loss, per scenario, against the 15 ms target. */
export function quicTargetChecks(rows: readonly LossRow[]): TargetCheck[] {
  return rows
    .filter((r) => r.lossPct === TARGET_LOSS_PCT && r.result.broker === 'fastpubsub-quic')
    .map((r) => ({ scenarioLabel: r.scenarioLabel, p99Ms: r.result.p99Ms, met: r.result.p99Ms <= TARGET_P99_MS && r.result.delivered === r.result.expected }));
}

export function renderTargetChecks(checks: readonly TargetCheck[]): string {
  if (checks.length === 0) return `- QUIC edge p99 at ${TARGET_LOSS_PCT} % loss: not measured in this run (target <= ${TARGET_P99_MS} ms)`;
  return checks
    .map((c) => `- QUIC edge p99 at ${TARGET_LOSS_PCT} % loss, ${c.scenarioLabel}: ${fmtMs(c.p99Ms)} ms (target <= ${TARGET_P99_MS} ms, everything delivered: ${c.met ? 'met' : 'NOT met'})`)
    .join('\n');
}

export function renderDropNotes(notes: readonly LossLevelNote[]): string {
  return notes
    .map((n) => `- ${n.lossPct} % level: the nft rule dropped ${n.droppedPackets.toLocaleString('en-US')} packets`)
    .join('\n');
}
