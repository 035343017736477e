// `npm run bench:connections`: idle connections on one relay (WebSocket edge, then QUIC edge) and
// on nats-server, each with one subscription, opened by several load-generator processes from
// several loopback source addresses. Reports the broker's RSS per connection above its idle baseline, the time to accept
// them all, and a measured client's p99 before and during; for the relay also the answer to one
// connection past maxConnections, /ping and /metrics at that point, and the SIGTERM exit.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { runRow, type BrokerRow, type RowOptions, type RowResult } from './run.js';
import { findNatsServer, NATS_MISSING } from '../fanout/nats-adapter.js';

const HELP = `Usage: npm run bench:connections -- [options]

  --connections N    idle connections per broker (default 15000; one relay process holds at most
                     its descriptor limit minus limits.fdReserve)
  --per-process N    connections per load-generator process, each from its own 127.0.0.x
                     (default 8000; one process may hold 20,000 descriptors here)
  --probe-rate N     measured client's publish rate, msg/s (default 1000)
  --probe-seconds S  measured seconds, before and during (default 3)
  --size B           measured client's payload bytes (default 256)
  --repeat N         repeats per broker, medians reported (default 1)
  --only LIST        comma-separated: fastpubsub (WebSocket edge), fastpubsub-quic (QUIC edge;
                     the measured client stays on WebSocket), nats (default: fastpubsub,nats)
  --quick            CI smoke: 2000 connections, 1 s probes
  --out FILE         also write the table here (default bench/results/connections-latest.md;
                     --quick writes nothing unless --out is given)
  -h, --help
`;

function fail(msg: string): never {
  process.stderr.write(`bench:connections: ${msg}\n`);
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
        connections: { type: 'string' }, 'per-process': { type: 'string' }, 'probe-rate': { type: 'string' },
        'probe-seconds': { type: 'string' }, size: { type: 'string' }, repeat: { type: 'string' },
        only: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
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
const ALL: BrokerRow[] = ['fastpubsub', 'fastpubsub-quic', 'nats'];
// The QUIC row is opt-in: its handshakes cost ~5× a WebSocket upgrade, so it gets its own size.
const brokers = (only ?? 'fastpubsub,nats').split(',').map((x) => x.trim()) as BrokerRow[];
for (const b of brokers) if (!ALL.includes(b)) fail(`--only takes ${ALL.join(', ')}; got '${b}'`);
if (brokers.includes('nats') && findNatsServer() === undefined) fail(NATS_MISSING);

const opts: RowOptions = {
  connections: Math.floor(num(values.connections, 'connections', quick ? 2000 : 15_000, 1)),
  perProcess: Math.floor(num(values['per-process'], 'per-process', 8000, 1)),
  probeRate: num(values['probe-rate'], 'probe-rate', 1000, 1),
  probeMs: num(values['probe-seconds'], 'probe-seconds', quick ? 1 : 3, 0.1) * 1000,
  payloadBytes: Math.floor(num(values.size, 'size', 256, 8)),
  acceptTimeoutMs: 240_000,
};
if (opts.perProcess > 19_000) fail('--per-process must leave room under the 20,000-descriptor limit of one process (<= 19000)');
if (Math.ceil(opts.connections / opts.perProcess) > 250) fail('more than 250 load-generator processes (source addresses 127.0.0.2-251)');
const repeat = Math.floor(num(values.repeat, 'repeat', 1, 1));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const mb = (b: number): string => (b / 1048576).toFixed(1);

const rows: string[] = [];
const notes: string[] = [];
const perConn = new Map<string, number>();
for (const broker of brokers) {
  const runs: RowResult[] = [];
  for (let i = 0; i < repeat; i++) {
    process.stderr.write(`bench:connections: ${broker}, ${opts.connections} idle connections, run ${i + 1}/${repeat}\n`);
    runs.push(await runRow(broker, opts));
  }
  const per = median(runs.map((r) => (r.loadedRssBytes - r.idleRssBytes) / r.connections));
  perConn.set(broker, per);
  const unloaded = median(runs.map((r) => r.unloaded.p99Ms));
  const loaded = median(runs.map((r) => r.loaded.p99Ms));
  rows.push(
    `| ${broker} | ${opts.connections} | ${mb(median(runs.map((r) => r.idleRssBytes)))} | ${mb(median(runs.map((r) => r.loadedRssBytes)))} | ${(per / 1024).toFixed(2)} | ${(median(runs.map((r) => r.acceptMs)) / 1000).toFixed(1)} | ${median(runs.map((r) => r.acceptCpuSeconds)).toFixed(1)} | ${unloaded.toFixed(2)} | ${loaded.toFixed(2)} | ${(loaded / unloaded).toFixed(2)} |`,
  );
  const retried = runs.map((r) => r.retries);
  if (retried.some((n) => n > 0)) notes.push(`- ${broker}: handshakes cut under the accept load and retried by the generator: ${retried.join(', ')} (per run).`);
  const last = runs[runs.length - 1];
  if (last?.refusal !== undefined) {
    notes.push(`- ${broker}: connection ${opts.connections + 3} (past maxConnections) was answered \`${last.refusal}\`; /ping and /metrics then ${last.pingAndMetricsOk === true ? 'answered 200' : 'FAILED'}; SIGTERM with every connection open: ${last.sigtermExit ?? '?'}.`);
  }
}
const header = [
  '| broker | idle connections | RSS idle (MB) | RSS with them (MB) | KB per connection | accept all (s) | CPU to accept (s) | probe p99 before (ms) | probe p99 during (ms) | during / before |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
const ratio = perConn.has('fastpubsub') && perConn.has('nats') ? `\nMemory per connection, relay / NATS: ${((perConn.get('fastpubsub') ?? 0) / (perConn.get('nats') ?? 1)).toFixed(2)}×\n` : '';
const host = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1) ?? "?"} at the end`;
const text = [
  `Idle connections, one subscription each; measured client at ${opts.probeRate} msg/s, ${opts.payloadBytes} B; ${Math.ceil(opts.connections / opts.perProcess)} load-generator process(es) of ≤ ${opts.perProcess}; ${repeat} run(s), medians. Host: ${host}.`,
  '',
  ...header,
  ...rows,
  ratio,
  ...notes,
  '',
].join('\n');
process.stdout.write(`\n${text}`);
const out = values.out ?? (quick ? undefined : fileURLToPath(new URL('../results/connections-latest.md', import.meta.url)));
if (out !== undefined) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `# bench:connections\n\n\`npm run bench:connections${process.argv.slice(2).length > 0 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`, ${new Date().toISOString()}\n\n${text}`);
}
process.exit(0);
