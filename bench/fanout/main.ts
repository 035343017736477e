// `npm run bench:fanout`: FastPubSub relay vs nats-server, fan-out 1/10/100 at a fixed rate and
// at maximum throughput, plus one stalled subscriber among 10. Prints one table (medians of the
// repeats) and the ratios, and writes them to bench/results/fanout-latest.md.
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchOptions, type FanoutBroker, runBench } from './bench.js';
import { HEADER_BYTES } from './payload.js';
import { findNatsServer, NATS_MISSING } from './nats-adapter.js';
import { ratios, renderRatios, renderStallNotes, renderTable } from './report.js';

const HELP = `Usage: npm run bench:fanout -- [options]

  --repeat N         repeats per row, each on a fresh broker; medians reported (default 3)
  --duration S       measured seconds per row (default 3)
  --warmup S         warm-up seconds per row (default 1)
  --rate N           publish rate of the fixed-rate rows, msg/s (default 2000)
  --size B           payload bytes, >= ${HEADER_BYTES} (default 256)
  --fanout LIST      comma-separated fan-outs (default 1,10,100)
  --window N         max-throughput rows: messages ahead of the slowest subscriber (default 1000)
  --stall-fill MB    stalled row: MB pushed through before measuring (default 16)
  --relay-queue B    relay per-subscriber outbound queue, bytes (default: the relay's)
  --only NAME        fastpubsub | nats
  --quick            CI smoke: 0.3 s rows, 0.1 s warm-up, 1 repeat, 1 MB stall fill
  --out FILE         also write the table here (default bench/results/fanout-latest.md;
                     --quick writes nothing unless --out is given)
  -h, --help
`;

function fail(msg: string): never {
  process.stderr.write(`bench:fanout: ${msg}\n`);
  process.exit(2);
}

function num(v: string | undefined, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number >= ${min}, got '${v}'`);
  return n;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        repeat: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' },
        rate: { type: 'string' }, size: { type: 'string' }, fanout: { type: 'string' },
        window: { type: 'string' }, 'stall-fill': { type: 'string' }, 'relay-queue': { type: 'string' },
        only: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    return fail(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
  }
})();

if (values.help === true) {
  process.stdout.write(HELP);
  process.exit(0);
}

const quick = values.quick === true;
const only = values.only;
if (only !== undefined && only !== 'fastpubsub' && only !== 'nats') fail(`--only must be fastpubsub or nats, got '${only}'`);
const brokers: FanoutBroker[] = only !== undefined ? [only] : ['fastpubsub', 'nats'];
if (brokers.includes('nats') && findNatsServer() === undefined) fail(NATS_MISSING);

const fanouts = (values.fanout ?? '1,10,100').split(',').map((s) => num(s.trim(), 'fanout', 1, 1));
const opts: BenchOptions = {
  repeat: Math.floor(num(values.repeat, 'repeat', quick ? 1 : 3, 1)),
  durationMs: num(values.duration, 'duration', quick ? 0.3 : 3, 0.05) * 1000,
  warmupMs: num(values.warmup, 'warmup', quick ? 0.1 : 1, 0) * 1000,
  rate: num(values.rate, 'rate', 2000, 1),
  payloadBytes: Math.floor(num(values.size, 'size', 256, HEADER_BYTES)),
  window: Math.floor(num(values.window, 'window', 1000, 1)),
  stallFillBytes: num(values['stall-fill'], 'stall-fill', quick ? 1 : 16, 0) * 1024 * 1024,
  drainTimeoutMs: 5000,
  relayQueueBytes: values['relay-queue'] !== undefined ? num(values['relay-queue'], 'relay-queue', 0, 1) : undefined,
  brokers,
  fanouts,
  log: (line) => process.stderr.write(`${line}\n`),
};

const started = new Date();
const load0 = loadavg()[0] ?? Number.NaN;
const result = await runBench(opts);
const table = renderTable(result.rows);
const ratioText = renderRatios(ratios(result.rows));
const stallText = renderStallNotes(result.rows);

let natsVersion = '-';
const natsBin = findNatsServer();
if (natsBin !== undefined) {
  try { natsVersion = execFileSync(natsBin, ['--version'], { encoding: 'utf8' }).trim(); } catch { /* keep '-' */ }
}
const settings = `payload ${opts.payloadBytes} B; fixed rate ${opts.rate} msg/s; ${opts.durationMs / 1000} s measured after ${opts.warmupMs / 1000} s warm-up; ` +
  `max-throughput window ${opts.window} msgs; stall fill ${opts.stallFillBytes / 1048576} MB; medians of ${opts.repeat} repeat(s)`;
const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${natsVersion}; ` +
  `1-min load average ${load0.toFixed(1)} at start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at end (the benchmark itself adds about 2)`;

process.stdout.write(`\n${table}\n\nRatios:\n${ratioText}\n\nStalled subscriber, broker side:\n${stallText}\n\n${settings}\n${machine}\n`);

const out = values.out ?? (quick ? undefined : fileURLToPath(new URL('../results/fanout-latest.md', import.meta.url)));
if (out !== undefined) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, [
    '# Fan-out benchmark: latest run',
    '',
    `Written by \`npm run bench:fanout\` on ${started.toISOString()}. Column meanings: docs/benchmarks.md.`,
    '',
    table,
    '',
    '## Ratios',
    '',
    ratioText,
    '',
    '## Stalled subscriber, broker side',
    '',
    stallText,
    '',
    `Settings: ${settings}.`,
    '',
    `Machine: ${machine}.`,
    '',
  ].join('\n'));
  process.stderr.write(`bench:fanout: wrote ${out}\n`);
}
