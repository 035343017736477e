// Age of the newest state, per benchmark row. Pure (tested in age.test.ts): no I/O, no clock.
//   state:     every payload starts with f64 publish time (ms, performance.now() of the runner,
//              which hosts publisher and subscribers) and u32 sequence number of its channel.
//   on arrival: a state newer (higher sequence) than the one held replaces it; older or equal
//              ones (a reordered datagram, a duplicate) are counted as stale and ignored.
//   sampling:  at a steady clock (1 kHz), for every channel, age = now − publish time of the
//              newest state held: how old the state is that a render loop would draw right now.
//   arrival:   also kept: now − publish time of each state as it becomes the newest one.

export const STATE_BYTES = 200;

export function encodeState(sentAtMs: number, seq: number): Uint8Array {
  const b = new Uint8Array(STATE_BYTES);
  const v = new DataView(b.buffer);
  v.setFloat64(0, sentAtMs);
  v.setUint32(8, seq);
  return b;
}

export function decodeState(payload: Uint8Array): { sentAtMs: number; seq: number } | undefined {
  if (payload.byteLength < 12) return undefined;
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return { sentAtMs: v.getFloat64(0), seq: v.getUint32(8) };
}

export class AgeTracker {
  readonly #newest = new Map<string, { seq: number; sentAtMs: number }>();
  readonly sampled: number[] = [];
  readonly onArrival: number[] = [];
  received = 0;
  stale = 0;
  recording = false;

  /** A delivery reached the subscriber at `nowMs`. */
  arrive(channel: string, payload: Uint8Array, nowMs: number): void {
    const s = decodeState(payload);
    if (s === undefined) return;
    this.received++;
    const held = this.#newest.get(channel);
    if (held !== undefined && s.seq <= held.seq) {
      this.stale++;
      return;
    }
    this.#newest.set(channel, s);
    if (this.recording) this.onArrival.push(nowMs - s.sentAtMs);
  }

  /** One sample per channel that has a state; channels never heard of are skipped. */
  sample(channels: readonly string[], nowMs: number): void {
    if (!this.recording) return;
    for (const c of channels) {
      const held = this.#newest.get(c);
      if (held !== undefined) this.sampled.push(nowMs - held.sentAtMs);
    }
  }

  reset(): void {
    this.sampled.length = 0;
    this.onArrival.length = 0;
    this.received = 0;
    this.stale = 0;
  }
}

/** Nearest-rank percentile (q in 0..1) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface LatestRow {
  lossPct: number;
  label: string;
  ageP50: number;
  ageP99: number;
  arrivalP50: number;
  arrivalP99: number;
  received: number;
  published: number;
  superseded: number;
}

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');

export function renderLatestTable(rows: readonly LatestRow[]): string {
  const out = [
    '| loss | delivery | age p50 ms | age p99 ms | on arrival p50 ms | on arrival p99 ms | received / published | superseded at relay |',
    '|-----:|:---------|-----------:|-----------:|------------------:|------------------:|---------------------:|--------------------:|',
  ];
  for (const r of rows) {
    out.push(`| ${r.lossPct} % | ${r.label} | ${ms(r.ageP50)} | ${ms(r.ageP99)} | ${ms(r.arrivalP50)} | ${ms(r.arrivalP99)} | ${r.received} / ${r.published} | ${r.superseded} |`);
  }
  return out.join('\n');
}

/** The goal at one loss level: latest p99 age ≤ ½ of reliable QUIC streams and ≤ 1/20 of WebSocket. */
export function goalChecks(rows: readonly LatestRow[], latest: string, reliable: string, ws: string): string[] {
  const lines: string[] = [];
  for (const pct of [...new Set(rows.map((r) => r.lossPct))]) {
    const at = (label: string): LatestRow | undefined => rows.find((r) => r.lossPct === pct && r.label === label);
    const l = at(latest);
    const q = at(reliable);
    const w = at(ws);
    if (l === undefined || q === undefined || w === undefined) continue;
    const vsQ = l.ageP99 / q.ageP99;
    const vsW = l.ageP99 / w.ageP99;
    const ok = vsQ <= 0.5 && vsW <= 0.05;
    lines.push(`- ${pct} % loss: latest p99 age ${ms(l.ageP99)} ms = ${vsQ.toFixed(2)} × reliable QUIC streams (${ms(q.ageP99)} ms; goal ≤ 0.5), ${vsW.toFixed(3)} × WebSocket (${ms(w.ageP99)} ms; goal ≤ 0.05): ${ok ? 'met' : 'not met'}`);
  }
  return lines;
}
