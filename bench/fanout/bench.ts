// Runs every (broker, scenario) row `repeat` times, each repeat on a freshly started broker,
// and reduces the repeats to medians. Used by main.ts and by the smoke test.
import type { RunningBroker } from './adapter.js';
import { startRelay } from './fastpubsub-adapter.js';
import { type RowOptions, type RowResult, runRow, scenarios, type Scenario } from './harness.js';
import { startNats } from './nats-adapter.js';
import { type MedianRow, medianRow } from './report.js';

/** The brokers of the fan-out benchmark (bench:loss adds the QUIC edge and Redis). */
export type FanoutBroker = 'fastpubsub' | 'nats';

export interface BenchOptions extends RowOptions {
  repeat: number;
  brokers: FanoutBroker[];
  fanouts: number[];
  /** Relay per-subscriber outbound queue, bytes (relay default when undefined). */
  relayQueueBytes?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface BenchResult {
  rows: MedianRow[];
  runs: RowResult[];
}

async function startBroker(name: FanoutBroker, opts: BenchOptions): Promise<RunningBroker> {
  return name === 'nats' ? startNats() : startRelay({ outboundQueueBytes: opts.relayQueueBytes });
}

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const log = opts.log ?? (() => undefined);
  const scs = scenarios(opts.fanouts);
  const runs: RowResult[] = [];
  for (let r = 0; r < opts.repeat; r++) {
    // Fresh brokers each repeat, all started up front (an idle broker costs nothing), and each
    // scenario run on every broker back to back, the order alternating: on a shared, noisy
    // machine the paired rows then see nearly the same background load.
    const brokers: RunningBroker[] = [];
    try {
      for (const name of opts.brokers) brokers.push(await startBroker(name, opts));
      for (const [i, sc] of scs.entries()) {
        const order = (r + i) % 2 === 0 ? brokers : [...brokers].reverse();
        for (const broker of order) {
          const started = performance.now();
          let res: RowResult;
          try {
            res = await runRow(broker, sc, opts);
          } catch (err) {
            throw new Error(`${broker.name} ${sc.key}: ${err instanceof Error ? err.message : String(err)}\n--- broker output ---\n${broker.output().slice(-4000)}`);
          }
          runs.push(res);
          log(`[${r + 1}/${opts.repeat}] ${broker.name.padEnd(10)} ${sc.key.padEnd(17)} ${Math.round(res.deliveredPerSec).toString().padStart(9)} msg/s  p50 ${res.p50Ms.toFixed(3)} ms  p99 ${res.p99Ms.toFixed(3)} ms  delivered ${res.delivered}${Number.isNaN(res.expected) ? '' : `/${res.expected}`}${sc.stalled ? `  broker slow-consumer count +${res.slowConsumerDelta}` : ''}  (${Math.round(performance.now() - started)} ms)`);
        }
      }
    } finally {
      await Promise.allSettled(brokers.map((b) => b.stop()));
    }
  }
  const rows: MedianRow[] = [];
  for (const name of opts.brokers) {
    for (const sc of scs) rows.push(medianRow(name, sc, runs.filter((x) => x.broker === name && x.scenario === sc.key)));
  }
  return { rows, runs };
}

export type { Scenario };
