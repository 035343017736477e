// `npm run bench:mesh`: what a mesh hop costs. Three relays over loopback in a line A — B — C
// (line.ts). A publisher at A sends 256 B at a fixed rate; subscribers at A (local), B (one hop)
// and C (two hops) record the one-way latency; the per-hop cost is the difference to the local
// delivery. Then the link's throughput: publishers at A as fast as the link takes it, one
// subscriber at B; the link's own counters at both ends (/v1/mesh/links), messages delivered at B, and
// each relay's CPU from /proc. Publishers are separate processes, so they are not the limit.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { TENANT, WsClient, issueMeshToken, latencyOf, links, until, routes } from '@fastpubsub/testkit/relay';
import { spawnChild } from '../fanout/processes.js';
import { cpuSeconds } from '../fanout/procstat.js';
import { startLine, type LineCluster } from './line.js';
import { runWorkers } from './workers.js';

const HELP = `Usage: npm run bench:mesh -- [options]

Three relays over loopback in a line (A — B — C, no emulated delay): p50/p99 added per mesh hop
at a fixed rate, and one link's throughput.
  --rate N          latency rows: publishes per second (default 1000)
  --seconds S       measured seconds per row (default 5)
  --size B          payload bytes (default 256)
  --publishers N    throughput row: publisher processes at A (default 2)
  --repeat N        repeats, medians reported (default 3)
  --workers         instead: the multi-core design's data path, 1 relay against 2 relays
                    linked over loopback, one per core (taskset); --fanout subscribers
  --fanout N        with --workers: subscriber connections, split over the workers (default 10)
  --quick           CI smoke: 1 s rows, 1 repeat
  --out FILE        also write the table here (default bench/results/mesh-latest.md;
                    --quick writes nothing unless --out is given)
  -h, --help
`;

function fail(msg: string): never {
  process.stderr.write(`bench:mesh: ${msg}\n`);
  process.exit(2);
}
const { values } = (() => {
  try {
    return parseArgs({
      options: {
        rate: { type: 'string' }, seconds: { type: 'string' }, size: { type: 'string' }, publishers: { type: 'string' },
        repeat: { type: 'string' }, quick: { type: 'boolean' }, workers: { type: 'boolean' }, fanout: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
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
function num(v: string | undefined, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number >= ${min}, got '${v}'`);
  return n;
}
const quick = values.quick === true;
const RATE = num(values.rate, 'rate', 1000, 1);
const SECONDS = num(values.seconds, 'seconds', quick ? 1 : 5, 0.2);
const SIZE = Math.floor(num(values.size, 'size', 256, 16));
const PUBLISHERS = Math.floor(num(values.publishers, 'publishers', 2, 1));
const REPEAT = Math.floor(num(values.repeat, 'repeat', quick ? 1 : 3, 1));

if (values.workers === true) {
  const text = await runWorkers({ seconds: SECONDS, size: SIZE, fanout: Math.floor(num(values.fanout, 'fanout', 10, 1)), publishers: PUBLISHERS, repeat: REPEAT });
  process.stdout.write(`\n${text}`);
  const out = values.out ?? (quick ? undefined : fileURLToPath(new URL('../results/mesh-workers-latest.md', import.meta.url)));
  if (out !== undefined) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `# bench:mesh --workers\n\n\`npm run bench:mesh -- ${process.argv.slice(2).join(' ')}\`, ${new Date().toISOString()}, load average ${loadavg()[0]?.toFixed(1)} at the end\n\n${text}`);
  }
  process.exit(0);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
};
const median = (xs: number[]): number => pct(xs, 0.5);

/** Stamped payload: u32 seq | f64 send time (performance.now) | padding. */
function stamp(seq: number): Buffer {
  const b = Buffer.alloc(SIZE);
  b.writeUInt32BE(seq, 0);
  b.writeDoubleBE(performance.now(), 8);
  return b;
}

interface LatencyRun { p50: Record<string, number>; p99: Record<string, number>; lost: number }

async function latencyRun(c: LineCluster, run: number): Promise<LatencyRun> {
  const channel = `m.lat.${run}`;
  const subs = new Map<string, WsClient>();
  for (const id of ['a', 'b', 'c']) {
    const s = await WsClient.open(c, id);
    await s.subscribe(channel);
    subs.set(id, s);
  }
  const pub = await WsClient.open(c, 'a');
  // Interest reaches A from B and C: wait until a probe publish arrives at C.
  await until('interest at A for C', 10_000, async () => {
    pub.publish(channel, stamp(0xffffffff));
    await sleep(50);
    return subs.get('c')!.received.length > 0 ? true : undefined;
  });
  await sleep(200);
  for (const s of subs.values()) s.received.length = 0;
  const total = Math.round(RATE * SECONDS);
  const start = performance.now();
  let sent = 0;
  while (sent < total && performance.now() - start < SECONDS * 1000 + 5000) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
    for (; sent < due; sent++) pub.publish(channel, stamp(sent));
    await sleep(1);
  }
  await sleep(500);
  const out: LatencyRun = { p50: {}, p99: {}, lost: 0 };
  for (const [id, s] of subs) {
    const lat = s.received.filter((r) => r.payload.readUInt32BE(0) !== 0xffffffff).map(latencyOf);
    out.p50[id] = pct(lat, 0.5);
    out.p99[id] = pct(lat, 0.99);
    out.lost += total - lat.length;
    s.close();
  }
  pub.close();
  return out;
}

interface ThroughputRun { deliveredPerSec: number; linkSentPerSec: number; linkReceivedPerSec: number; cpu: Record<string, number> }

const PUBLISHER_CHILD = fileURLToPath(new URL('./publisher-child.ts', import.meta.url));

/** Messages A sent to B and B received from A, by the link counters of /v1/mesh/links. */
async function linkCounters(c: LineCluster): Promise<{ sent: number; received: number }> {
  // A relay still draining a flood may answer late: a few bounded attempts.
  for (let attempt = 1; ; attempt++) {
    try {
      const ab = (await links(c, 'a')).find((l) => l.peer === 'b');
      const ba = (await links(c, 'b')).find((l) => l.peer === 'a');
      return { sent: ab?.messagesSent ?? Number.NaN, received: ba?.messagesReceived ?? Number.NaN };
    } catch (err) {
      if (attempt >= 6) throw err;
    }
  }
}

async function throughputRun(c: LineCluster, run: number): Promise<ThroughputRun> {
  const channel = `m.tp.${run}`;
  const sub = await WsClient.open(c, 'b');
  await sub.subscribe(channel);
  const probe = await WsClient.open(c, 'a');
  await until('interest at A for B', 10_000, async () => {
    probe.publish(channel, stamp(0));
    await sleep(50);
    return sub.received.length > 0 ? true : undefined;
  });
  probe.close();
  const token = await issueMeshToken(c, 'a');
  const children = Array.from({ length: PUBLISHERS }, (_, k) =>
    spawnChild(process.execPath, ['--conditions=development', '--import', 'tsx', PUBLISHER_CHILD, '--url', c.nodes.get('a')!.wsUrl, '--token', token, '--tenant', TENANT, '--channel', channel, '--seconds', String(SECONDS), '--size', String(SIZE)], `publisher ${k}`),
  );
  await Promise.all(children.map((ch) => ch.waitForLine(/^open$/m, 30_000)));
  const before = await linkCounters(c);
  const received0 = sub.received.length;
  const cpu0 = Object.fromEntries([...c.nodes].map(([id, n]) => [id, cpuSeconds(n.pid)]));
  const t0 = performance.now();
  for (const ch of children) ch.child.stdin?.write('go\n');
  try {
    await Promise.all(children.map((ch) => ch.waitForLine(/^sent \d+/m, SECONDS * 1000 + 30_000)));
  } finally {
    for (const ch of children) await ch.stop();
  }
  // Counters and CPU are read after the publishers stopped; what the relays did meanwhile counts
  // in both the numerator and the elapsed time, so a slow read lowers the rate, never inflates it.
  const after = await linkCounters(c);
  const delivered = sub.received.length - received0;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = Object.fromEntries([...c.nodes].map(([id, n]) => [id, (cpuSeconds(n.pid) - (cpu0[id] ?? 0)) / elapsed]));
  sub.received.length = 0;
  sub.close();
  await sleep(1000); // let any backlog drain before the next row
  return { deliveredPerSec: delivered / elapsed, linkSentPerSec: (after.sent - before.sent) / elapsed, linkReceivedPerSec: (after.received - before.received) / elapsed, cpu };
}

const cluster = await startLine();
const lat: LatencyRun[] = [];
const tp: ThroughputRun[] = [];
try {
  await until('route a→c via b', 30_000, async () => ((await routes(cluster, 'a')).find((r) => r.dest === 'c')?.path.length === 3 ? true : undefined), 200);
  for (let i = 0; i < REPEAT; i++) {
    process.stderr.write(`bench:mesh: run ${i + 1}/${REPEAT}\n`);
    lat.push(await latencyRun(cluster, i));
    tp.push(await throughputRun(cluster, i));
  }
} finally {
  await cluster.stop();
}

const f = (x: number): string => x.toFixed(3);
const p50 = (id: string): number => median(lat.map((r) => r.p50[id] ?? Number.NaN));
const p99 = (id: string): number => median(lat.map((r) => r.p99[id] ?? Number.NaN));
const lines = [
  `Three relays over loopback in a line A — B — C, WebSocket clients; ${RATE} msg/s of ${SIZE} B for ${SECONDS} s; medians of ${REPEAT} run(s). Host: ${cpus().length} cores, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)} at the end.`,
  '',
  '| subscriber at | hops | p50 (ms) | p99 (ms) | p50 added per hop (ms) | p99 added per hop (ms) |',
  '|---|---|---|---|---|---|',
  `| A (publisher's relay) | 0 | ${f(p50('a'))} | ${f(p99('a'))} | – | – |`,
  `| B | 1 | ${f(p50('b'))} | ${f(p99('b'))} | ${f(p50('b') - p50('a'))} | ${f(p99('b') - p99('a'))} |`,
  `| C | 2 | ${f(p50('c'))} | ${f(p99('c'))} | ${f((p50('c') - p50('a')) / 2)} | ${f((p99('c') - p99('a')) / 2)} |`,
  '',
  `Messages not delivered in the latency rows: ${lat.map((r) => r.lost).join(', ')} (per run, all subscribers).`,
  '',
  `| link A→B, ${PUBLISHERS} publisher processes at A, ${SIZE} B | msg/s sent on the link (A) | msg/s received on the link (B) | msg/s delivered to B's subscriber | CPU A | CPU B | CPU C |`,
  '|---|---|---|---|---|---|---|',
  `| median | ${Math.round(median(tp.map((r) => r.linkSentPerSec)))} | ${Math.round(median(tp.map((r) => r.linkReceivedPerSec)))} | ${Math.round(median(tp.map((r) => r.deliveredPerSec)))} | ${Math.round(100 * median(tp.map((r) => r.cpu.a ?? 0)))} % | ${Math.round(100 * median(tp.map((r) => r.cpu.b ?? 0)))} % | ${Math.round(100 * median(tp.map((r) => r.cpu.c ?? 0)))} % |`,
  '',
];
const text = lines.join('\n');
process.stdout.write(`\n${text}`);
const out = values.out ?? (quick ? undefined : fileURLToPath(new URL('../results/mesh-latest.md', import.meta.url)));
if (out !== undefined) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `# bench:mesh\n\n\`npm run bench:mesh${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`, ${new Date().toISOString()}\n\n${text}`);
}
process.exit(0);
