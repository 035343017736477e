// The part of `npm run bench:loss` that runs INSIDE the network namespace (main.ts starts it with
// `ip netns exec`): starts the brokers, sets each loss level with nft, runs the fan-out harness
// per (loss, scenario, broker), prints the table and writes it to bench/results/loss-latest.md.
// It refuses to run outside an `fps-loss-*` namespace: its nft rule would drop host loopback traffic.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningBroker } from '../fanout/adapter.js';
import { startRelay } from '../fanout/fastpubsub-adapter.js';
import { type RowOptions, runRow, scenarios } from '../fanout/harness.js';
import { findNatsServer, startNats } from '../fanout/nats-adapter.js';
import { applyLoss, currentNetns, droppedPackets, NETNS_PREFIX } from './netns.js';
import { type LossBroker, LossUsageError, parseLossArgs } from './options.js';
import { QuicEdgeUnavailable, startQuicEdge } from './quic-adapter.js';
import { findRedisServer, startRedis } from './redis-adapter.js';
import { type LossLevelNote, type LossRow, quicTargetChecks, renderDropNotes, renderLossTable, renderTargetChecks } from './table.js';

const DEFAULT_OUT = fileURLToPath(new URL('../results/loss-latest.md', import.meta.url));
const log = (line: string): void => { process.stderr.write(`${line}\n`); };

let opts;
try {
  opts = parseLossArgs(process.argv.slice(2), DEFAULT_OUT);
} catch (err) {
  if (!(err instanceof LossUsageError)) throw err;
  log(`bench:loss: ${err.message}`);
  process.exit(2);
}

const ns = currentNetns();
if (ns === undefined || !ns.startsWith(NETNS_PREFIX) || ns !== process.env.FPS_LOSS_NETNS) {
  log(`bench:loss runner: must run inside the ${process.env.FPS_LOSS_NETNS ?? `${NETNS_PREFIX}<pid>`} namespace (found ${ns ?? 'the default namespace'}); start it with npm run bench:loss`);
  process.exit(2);
}

const SCENARIO_LABEL: Record<string, string> = { 'rate-f1': 'fan-out 1', 'rate-f10': 'fan-out 10', 'rate-f10-stalled': 'fan-out 10, 1 stalled' };
const scs = scenarios([1, 10]).filter((s) => s.mode === 'rate');
const rowOpts: RowOptions = {
  durationMs: opts.durationMs,
  warmupMs: opts.warmupMs,
  rate: opts.rate,
  payloadBytes: opts.payloadBytes,
  window: 1000, // max-throughput rows only; not run here
  stallFillBytes: opts.stallFillBytes,
  drainTimeoutMs: opts.drainTimeoutMs,
};

/** Brokers started once, at 0 % loss (so start-up and token fetches are not what we measure). */
async function startBrokers(which: readonly LossBroker[]): Promise<{ running: RunningBroker[]; stop: () => Promise<void> }> {
  const owned: RunningBroker[] = [];
  const byName = new Map<LossBroker, RunningBroker>();
  const stop = async (): Promise<void> => { await Promise.allSettled(owned.map((b) => b.stop())); };
  try {
    if (which.includes('quic') || which.includes('ws')) {
      const relay = await startRelay();
      owned.push(relay);
      if (which.includes('ws')) byName.set('ws', relay);
      if (which.includes('quic')) {
        try {
          byName.set('quic', await startQuicEdge(relay));
        } catch (err) {
          if (!(err instanceof QuicEdgeUnavailable)) throw err;
          log(`bench:loss: QUIC edge row skipped: ${err.message}`);
        }
      }
    }
    if (which.includes('nats')) {
      if (findNatsServer() === undefined) throw new Error('nats-server not found (apt-get install nats-server), or leave nats out of --only');
      const nats = await startNats();
      owned.push(nats);
      byName.set('nats', nats);
    }
    if (which.includes('redis')) {
      if (findRedisServer() === undefined) throw new Error('redis-server not found (apt-get install redis-server), or leave redis out of --only');
      const redis = await startRedis();
      owned.push(redis);
      byName.set('redis', redis);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { running: which.map((b) => byName.get(b)).filter((b): b is RunningBroker => b !== undefined), stop };
}

const started = new Date();
const load0 = loadavg()[0] ?? Number.NaN;
applyLoss(0);
const { running, stop } = await startBrokers(opts.brokers);
const rows: LossRow[] = [];
const notes: LossLevelNote[] = [];
try {
  for (const pct of opts.loss) {
    applyLoss(pct);
    log(`--- ${pct} % loss on the namespace loopback ---`);
    let dropped = 0;
    for (const sc of scs) {
      for (const broker of running) {
        const t0 = performance.now();
        let res;
        try {
          res = await runRow(broker, sc, rowOpts);
        } catch (err) {
          throw new Error(`${broker.name} ${sc.key} at ${pct} % loss: ${err instanceof Error ? err.message : String(err)}\n--- broker output ---\n${broker.output().slice(-4000)}`);
        }
        rows.push({ lossPct: pct, scenarioLabel: SCENARIO_LABEL[sc.key] ?? sc.label, result: res });
        log(`${String(pct).padStart(3)} % ${broker.name.padEnd(16)} ${sc.key.padEnd(17)} delivered ${res.delivered}/${res.expected}  p50 ${res.p50Ms.toFixed(2)}  p99 ${res.p99Ms.toFixed(2)}  p99.9 ${res.p999Ms.toFixed(2)}  max ${res.maxMs.toFixed(2)} ms  (${Math.round(performance.now() - t0)} ms)`);
      }
    }
    dropped = droppedPackets(); // the table is replaced per level, so its counter is per level
    notes.push({ lossPct: pct, droppedPackets: dropped });
  }
} finally {
  try { applyLoss(0); } catch { /* the namespace goes away anyway */ }
  await stop();
}

const table = renderLossTable(rows);
const targets = renderTargetChecks(quicTargetChecks(rows));
const drops = renderDropNotes(notes);
const version = (bin: string | undefined, args: string[]): string => {
  if (bin === undefined) return '-';
  try { return execFileSync(bin, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '-'; } catch { return '-'; }
};
const settings = `${opts.rate} msg/s, ${opts.payloadBytes} B payload; ${opts.durationMs / 1000} s measured per row after ${opts.warmupMs / 1000} s warm-up; ` +
  `stall fill ${(opts.stallFillBytes / 1048576).toFixed(1)} MB; up to ${opts.drainTimeoutMs / 1000} s drain; loss applied with nft on the namespace loopback input hook (every packet, both directions)`;
const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
  `${version(findNatsServer(), ['--version'])}, ${version(findRedisServer(), ['--version'])}; 1-min load average ${load0.toFixed(1)} at start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at end`;

process.stdout.write(`\n${table}\n\nTarget:\n${targets}\n\nPackets dropped:\n${drops}\n\n${settings}\n${machine}\n`);

if (opts.out !== undefined) {
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, [
    '# Loss benchmark: latest run',
    '',
    `Written by \`npm run bench:loss\` on ${started.toISOString()}. Method and column meanings: docs/benchmarks.md.`,
    '',
    table,
    '',
    '## Target',
    '',
    targets,
    '',
    '## Packets dropped by the nft rule',
    '',
    drops,
    '',
    `Settings: ${settings}.`,
    '',
    `Machine: ${machine}.`,
    '',
  ].join('\n'));
  log(`bench:loss: wrote ${opts.out}`);
}
process.exit(0);
