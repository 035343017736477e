// Must-show 1 benchmark: the rate and latency of nine healthy subscriptions on one QUIC
// connection, with and without a tenth subscription on the same connection stalled (its stream
// never read). Target: the healthy ones' rate and p99 within 1.2x.
//
// Run: node --conditions=development --import tsx packages/relay/bench/hol.ts [seconds] [msg/s] [repeats] [--in-process] [--payload=BYTES]
//   seconds  per phase (default 3); msg/s published (default 5000); repeats (default 5);
//   payload bytes per message (default 256, at least 8).
//
// Honest by construction:
// - The relay runs in its own process (bench/fanout/relay-process.ts), as in production, so the
//   relay and the clients do not share one JavaScript thread (--in-process: the old setup).
// - A warm-up phase is discarded; then each repeat runs both phases, alternating their order
//   (ABBA) so drift in machine load does not favour one; every phase uses fresh connections.
// - Reported: every phase, the median of each metric over the repeats, and the median of the
//   per-repeat p99 ratios. The verdict uses the medians.
// - Messages are published every 1 ms (not in 5 ms bursts), each stamped with its send time;
//   latency is measured by the subscriber in the same process (same clock).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { QuicEdgeClient } from '@fastpubsub/client/quic';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const seconds = Number(positional[0] ?? 3);
const rate = Number(positional[1] ?? 5000);
const repeats = Number(positional[2] ?? 5);
const inProcess = process.argv.includes('--in-process');
const PAYLOAD = Math.max(8, Number(process.argv.find((a) => a.startsWith('--payload='))?.slice('--payload='.length) ?? 256));
/** The publisher honours backpressure: above this many bytes buffered on its control stream it waits a tick. */
const PUB_BUFFER_LIMIT = 1024 * 1024;
const SUBS = 10;
const TICK_MS = 1;
const MASTER = 'bench-master-token-0123456789abcdef';

interface Target {
  httpUrl: string;
  host: string;
  port: number;
  caPem: string;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

interface PhaseResult {
  rate: number;
  p50: number;
  p99: number;
  max: number;
  /** This process's event-loop delay p99, ms (with --in-process it includes the relay's work). */
  loopP99: number;
  delivered: number;
  expected: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function token(httpUrl: string): Promise<string> {
  const r = await fetch(`${httpUrl}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      right: { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['hol.#'], allow_channels_sub: ['hol.#'] }], expires_at: new Date(Date.now() + 3600_000).toISOString() },
      created_by: 'bench',
    }),
  });
  return ((await r.json()) as { token: string }).token;
}

async function relayInProcess(dataDir: string): Promise<Target> {
  const { startRelay } = await import('@fastpubsub/relay');
  const relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER, dataDir, logLevel: 'warn' });
  return {
    httpUrl: relay.httpUrl,
    host: '127.0.0.1',
    port: relay.quicPort as number,
    caPem: relay.quicCaPem as string,
    metrics: () => relay.metricsText(),
    close: () => relay.close({ graceMs: 0 }),
  };
}

async function relayProcess(dataDir: string): Promise<Target> {
  const script = fileURLToPath(new URL('../../../bench/fanout/relay-process.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', script, '--master-token', MASTER, '--data-dir', dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  let quic: { port: number; caFile: string } | undefined;
  const httpUrl = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`relay process exited (${code}) before it was ready`)));
    lines.on('line', (line) => {
      const q = /quic edge on [^:]+:(\d+), CA (.+)$/.exec(line);
      if (q) quic = { port: Number(q[1]), caFile: q[2] as string };
      const h = /listening on (http:\/\/\S+)/.exec(line);
      if (h) resolve(h[1] as string);
    });
  });
  if (quic === undefined) throw new Error('the relay process has no QUIC edge');
  return {
    httpUrl,
    host: '127.0.0.1',
    port: quic.port,
    caPem: await readFile(quic.caFile, 'utf8'),
    metrics: async () => (await fetch(`${httpUrl}/metrics`)).text(),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function phase(opts: { host: string; port: number; token: string; caPem: string }, stall: boolean, secs: number): Promise<PhaseResult> {
  const sub = await QuicEdgeClient.connect(opts);
  const pub = await QuicEdgeClient.connect(opts);
  const subs = Array.from({ length: SUBS }, () => sub.subscribe('t1', 'hol.#'));
  const lat: number[] = [];
  let delivered = 0;
  let first = Infinity;
  let last = 0;
  let heldBack = 0;
  subs.forEach((s, i) => {
    s.onMessage = (m) => {
      if (i === 0) return; // the one that may be stalled: not measured in either phase
      const now = performance.now();
      const sent = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).readDoubleLE(0);
      lat.push(now - sent);
      delivered++;
      if (now < first) first = now;
      last = now;
    };
  });
  await Promise.all(subs.map((s) => s.ready));
  while (!subs.every((s) => s.stream !== undefined)) await new Promise((r) => setTimeout(r, 10));
  if (stall) subs[0]!.pause();
  const total = Math.round(secs * rate);
  const payload = Buffer.alloc(PAYLOAD, 7);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    if (pub.bufferedAmount > PUB_BUFFER_LIMIT) {
      heldBack++;
      await new Promise((r) => setTimeout(r, TICK_MS));
      continue;
    }
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      payload.writeDoubleLE(performance.now(), 0);
      pub.publish('t1', 'hol.x', payload);
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  const healthy = SUBS - 1;
  const deadline = performance.now() + 3000;
  while (delivered < total * healthy && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  loop.disable();
  await sub.closed();
  await pub.closed();
  lat.sort((a, b) => a - b);
  if (heldBack > 0) console.log(`  (publisher held back by backpressure for ${heldBack} ticks: the offered rate exceeds what the path carries)`);
  return { rate: delivered / healthy / ((last - first) / 1000), p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: lat[lat.length - 1] ?? NaN, loopP99: loop.percentile(99) / 1e6, delivered, expected: total * healthy };
}

async function droppedSlow(t: Target): Promise<number> {
  const line = (await t.metrics()).split('\n').find((l) => l.startsWith('fastpubsub_dropped_messages_total{reason="slow_consumer"}'));
  return Number(line?.split(' ').pop() ?? 0);
}

const dataDir = await mkdtemp(join(tmpdir(), 'fps-hol-'));
const target = inProcess ? await relayInProcess(dataDir) : await relayProcess(dataDir);
try {
  const opts = { host: target.host, port: target.port, token: await token(target.httpUrl), caPem: target.caPem };
  console.log(
    `QUIC HOL: ${SUBS} subscriptions on one connection, ${rate} msg/s x ${PAYLOAD} B, ${seconds} s per phase, ${repeats} repeats (ABBA), ` +
      `relay ${inProcess ? 'in this process' : 'in its own process'}; metrics of the ${SUBS - 1} healthy ones`,
  );
  await phase(opts, false, Math.min(1, seconds)); // warm-up (JIT, first connections): discarded
  const base: PhaseResult[] = [];
  const stalled: PhaseResult[] = [];
  const row = (name: string, r: PhaseResult): string =>
    `${name.padEnd(14)} delivered ${r.delivered}/${r.expected}  rate/sub ${r.rate.toFixed(0)} msg/s  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  max ${r.max.toFixed(1)} ms  loop delay p99 ${r.loopP99.toFixed(1)} ms`;
  for (let i = 0; i < repeats; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    for (const stall of order) {
      const r = await phase(opts, stall, seconds);
      (stall ? stalled : base).push(r);
      console.log(row(`#${i + 1} ${stall ? '1 stalled' : 'no stall'}`, r));
    }
  }
  const med = (rs: PhaseResult[]): PhaseResult => ({
    rate: median(rs.map((r) => r.rate)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    max: median(rs.map((r) => r.max)),
    loopP99: median(rs.map((r) => r.loopP99)),
    delivered: rs.reduce((a, r) => a + r.delivered, 0),
    expected: rs.reduce((a, r) => a + r.expected, 0),
  });
  const b = med(base);
  const s = med(stalled);
  console.log('medians:');
  console.log(row('no stall', b));
  console.log(row('1 stalled', s));
  const rateRatio = b.rate / s.rate;
  const p99Ratio = s.p99 / b.p99;
  const pairRatio = median(stalled.map((r, i) => r.p99 / (base[i] as PhaseResult).p99));
  const complete = b.delivered === b.expected && s.delivered === s.expected;
  const pass = complete && rateRatio <= 1.2 && p99Ratio <= 1.2;
  console.log(
    `ratio of medians: rate ${rateRatio.toFixed(3)}x, p99 ${p99Ratio.toFixed(3)}x (median of per-repeat p99 ratios ${pairRatio.toFixed(3)}x); ` +
      `every message delivered: ${complete ? 'yes' : 'NO'}; target <= 1.2x: ${pass ? 'PASS' : 'FAIL'}`,
  );
  console.log(`slow_consumer drops (stalled subscription, all phases): ${await droppedSlow(target)}`);
} finally {
  await target.close();
  await rm(dataDir, { recursive: true, force: true });
}
