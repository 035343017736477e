// The load generator: one publisher connection and N subscriber connections in this process,
// the broker in another. Identical for every broker; only the adapter differs.
import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import type { Closeable, Publisher, RunningBroker } from './adapter.js';
import { LatencyHistogram } from './histogram.js';
import { HEADER_BYTES, Phase, makePayloadBuffer, nowNs, writeHeader } from './payload.js';
import { ProcSampler } from './procstat.js';

export interface Scenario {
  /** Stable key, e.g. `rate-f10`, `max-f100`, `rate-f10-stalled`. */
  readonly key: string;
  readonly label: string;
  readonly fanout: number;
  readonly mode: 'rate' | 'max';
  /** One of the `fanout` subscribers stops reading; it is excluded from every figure. */
  readonly stalled: boolean;
}

export function scenarios(fanouts: readonly number[]): Scenario[] {
  const out: Scenario[] = [];
  for (const f of fanouts) out.push({ key: `rate-f${f}`, label: `fan-out ${f}, fixed rate`, fanout: f, mode: 'rate', stalled: false });
  if (fanouts.includes(10)) out.push({ key: 'rate-f10-stalled', label: 'fan-out 10, one stalled', fanout: 10, mode: 'rate', stalled: true });
  for (const f of fanouts) out.push({ key: `max-f${f}`, label: `fan-out ${f}, max throughput`, fanout: f, mode: 'max', stalled: false });
  return out;
}

export interface RowOptions {
  /** Measured publishing window, ms. */
  durationMs: number;
  /** Warm-up before the window (same mode, not counted), ms. */
  warmupMs: number;
  /** Publish rate of the fixed-rate rows, msg/s. */
  rate: number;
  payloadBytes: number;
  /** Max-throughput rows: messages the publisher may have ahead of the slowest subscriber. */
  window: number;
  /** Stalled row: bytes published (in large messages) before the window, so the stalled
   *  subscriber's kernel buffers and broker-side queue are already full when measuring starts. */
  stallFillBytes: number;
  /** Fixed-rate rows: how long to wait after the window for the last deliveries, ms. */
  drainTimeoutMs: number;
}

export interface RowResult {
  broker: string;
  scenario: string;
  published: number;
  /** Deliveries expected at the healthy subscribers (fixed-rate rows; NaN for max rows). */
  expected: number;
  delivered: number;
  deliveredPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  brokerCpuPercent: number;
  brokerRssMb: number;
  /** Growth of the broker's slow-consumer counter over the row (see RunningBroker). */
  slowConsumerDelta: number;
  /** CPU of this load-generator process over the window: near 100 means the harness is the limit. */
  genCpuPercent: number;
}

const FILL_MESSAGE_BYTES = 60_000;

export async function runRow(broker: RunningBroker, sc: Scenario, opts: RowOptions): Promise<RowResult> {
  const adapter = broker.adapter;
  const healthy = sc.fanout - (sc.stalled ? 1 : 0);
  const rowTag = (Math.random() * 0xffffffff) >>> 0;
  const received = new Float64Array(healthy); // every phase of this row
  const measured = new Float64Array(healthy); // measure phase, counted
  const hist = new LatencyHistogram();
  let counting = false; // max rows count only inside the window
  let lastReceiveNs = 0;

  const slow0 = await broker.slowConsumerCount().catch(() => Number.NaN);
  const closeables: Closeable[] = [];
  let publisher: Publisher | undefined;
  try {
    // Subscribers first, a few at a time (100 simultaneous handshakes make a burst of their own).
    for (let i = 0; i < healthy; i += 20) {
      const batch: Promise<Closeable>[] = [];
      for (let j = i; j < Math.min(healthy, i + 20); j++) {
        const idx = j;
        batch.push(adapter.subscriber((bytes, offset) => {
          const t = nowNs();
          const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_BYTES);
          if (view.getUint32(12) !== rowTag) return;
          lastReceiveNs = t;
          received[idx]!++;
          if (view.getUint8(16) !== Phase.measure || !counting) return;
          measured[idx]!++;
          hist.record(t - view.getFloat64(0));
        }));
      }
      closeables.push(...(await Promise.all(batch)));
    }
    if (sc.stalled) closeables.push(await adapter.stalledSubscriber());
    publisher = await adapter.publisher();
    const pub = publisher;

    const payload = makePayloadBuffer(opts.payloadBytes);
    let seq = 0;
    let sent = 0; // every phase, for the max-throughput window
    const minReceived = (): number => {
      let m = Number.POSITIVE_INFINITY;
      for (let i = 0; i < healthy; i++) m = Math.min(m, received[i]!);
      return m;
    };
    const send = (phase: Phase): void => {
      writeHeader(payload, seq++, rowTag, phase);
      pub.publish(payload);
      sent++;
    };

    const runPhase = async (phase: Phase, durationMs: number): Promise<number> => {
      if (sc.mode === 'rate') {
        const total = Math.max(1, Math.round((opts.rate * durationMs) / 1000));
        const start = performance.now();
        let n = 0;
        while (n < total) {
          const due = Math.min(total, Math.floor(((performance.now() - start) * opts.rate) / 1000) + 1);
          pub.burst(() => { while (n < due) { send(phase); n++; } });
          if (n < total) await sleep(1);
        }
        return n;
      }
      // Max throughput: as fast as the slowest subscriber takes it, with `window` messages of slack.
      const end = performance.now() + durationMs;
      const burst = Math.max(1, Math.min(64, Math.floor(opts.window / 4)));
      let n = 0;
      while (performance.now() < end) {
        const room = Math.min(burst, opts.window - (sent - minReceived()));
        pub.burst(() => { for (let k = 0; k < room; k++) { send(phase); n++; } });
        await yieldToIo();
      }
      return n;
    };

    /** Waits until nothing has arrived for `quietMs` (or `capMs` passed). */
    const settle = async (quietMs: number, capMs: number): Promise<void> => {
      await pub.roundTrip();
      const until = performance.now() + capMs;
      while (performance.now() < until && (nowNs() - lastReceiveNs) / 1e6 < quietMs) await sleep(10);
    };

    // Warm-up.
    await runPhase(Phase.warmup, opts.warmupMs);
    await settle(100, 3000);

    // Stalled row: fill the stalled subscriber's path before measuring.
    if (sc.stalled && opts.stallFillBytes > 0) {
      const fill = makePayloadBuffer(Math.max(HEADER_BYTES, Math.min(FILL_MESSAGE_BYTES, opts.stallFillBytes)));
      const count = Math.ceil(opts.stallFillBytes / fill.length);
      const target = minReceived() + count;
      for (let i = 0; i < count; i++) {
        writeHeader(fill, seq++, rowTag, Phase.fill);
        pub.publish(fill);
        sent++;
        if (i % 16 === 15) await pub.roundTrip();
      }
      await pub.roundTrip();
      const until = performance.now() + 10_000;
      while (minReceived() < target && performance.now() < until) await sleep(5);
      await settle(100, 3000);
    }

    // Measured window.
    const sampler = new ProcSampler(broker.pid);
    const cpu0 = process.cpuUsage();
    sampler.start();
    const t0 = performance.now();
    counting = true;
    const published = await runPhase(Phase.measure, opts.durationMs);
    const windowMs = performance.now() - t0;
    if (sc.mode === 'max') counting = false;
    const proc = sampler.stop();
    const cpu = process.cpuUsage(cpu0);
    const genCpuPercent = ((cpu.user + cpu.system) / 1000 / windowMs) * 100;

    let expected = Number.NaN;
    if (sc.mode === 'rate') {
      expected = published * healthy;
      await pub.roundTrip();
      const until = performance.now() + opts.drainTimeoutMs;
      while (sum(measured) < expected && performance.now() < until) await sleep(5);
      counting = false;
    }
    const delivered = sum(measured);
    const slowConsumerDelta = (await broker.slowConsumerCount().catch(() => Number.NaN)) - slow0;
    return {
      broker: broker.name,
      scenario: sc.key,
      published,
      expected,
      delivered,
      // Fixed-rate rows divide by the nominal duration (the rate is the point); max rows by the
      // measured window.
      deliveredPerSec: delivered / ((sc.mode === 'rate' ? opts.durationMs : windowMs) / 1000),
      p50Ms: hist.quantile(0.5) / 1e6,
      p90Ms: hist.quantile(0.9) / 1e6,
      p99Ms: hist.quantile(0.99) / 1e6,
      p999Ms: hist.quantile(0.999) / 1e6,
      maxMs: hist.count > 0 ? hist.max / 1e6 : Number.NaN,
      brokerCpuPercent: proc.cpuPercent,
      brokerRssMb: proc.peakRssBytes / (1024 * 1024),
      slowConsumerDelta,
      genCpuPercent,
    };
  } finally {
    await Promise.allSettled([publisher?.close(), ...closeables.map((c) => c.close())]);
  }
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}
