// Must-show 1 benchmark: the rate and latency of nine healthy subscriptions on one QUIC
// connection, with and without a tenth subscription on the same connection stalled (its stream
// never read). Prints one row per phase and the ratios; target: within 1.2x.
// Run: node --conditions=development --import tsx packages/relay/bench/hol.ts [seconds] [msgPerSec]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startRelay } from '@fastpubsub/relay';
import { QuicEdgeClient } from '@fastpubsub/client/quic';

const seconds = Number(process.argv[2] ?? 5);
const rate = Number(process.argv[3] ?? 5000);
const PAYLOAD = 256;
const MASTER = 'bench-master-token-0123456789';

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
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

async function phase(opts: { host: string; port: number; token: string; caPem: string }, stall: boolean): Promise<{ rate: number; p50: number; p99: number; delivered: number; expected: number }> {
  const sub = await QuicEdgeClient.connect(opts);
  const pub = await QuicEdgeClient.connect(opts);
  const subs = Array.from({ length: 10 }, () => sub.subscribe('t1', 'hol.#'));
  const lat: number[] = [];
  let delivered = 0;
  let first = Infinity;
  let last = 0;
  subs.forEach((s, i) => {
    s.onMessage = (m) => {
      if (i === 0) return;
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
  const total = Math.round(seconds * rate);
  const tickMs = 5;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const payload = Buffer.alloc(PAYLOAD, 7);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + perTick);
    for (; sent < due; sent++) {
      payload.writeDoubleLE(performance.now(), 0);
      pub.publish('t1', 'hol.x', payload);
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const deadline = performance.now() + 3000;
  while (delivered < total * 9 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await sub.closed();
  await pub.closed();
  lat.sort((a, b) => a - b);
  return { rate: delivered / 9 / ((last - first) / 1000), p50: pct(lat, 0.5), p99: pct(lat, 0.99), delivered, expected: total * 9 };
}

const dataDir = await mkdtemp(join(tmpdir(), 'fps-hol-'));
const relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER, dataDir, logLevel: 'warn' });
try {
  const opts = { host: '127.0.0.1', port: relay.quicPort as number, token: await token(relay.httpUrl), caPem: relay.quicCaPem as string };
  console.log(`QUIC HOL: 10 subscriptions on one connection, ${rate} msg/s x ${PAYLOAD} B for ${seconds} s; metrics of the 9 healthy ones`);
  const base = await phase(opts, false);
  const stalled = await phase(opts, true);
  const row = (name: string, r: typeof base): string =>
    `${name.padEnd(12)} delivered ${r.delivered}/${r.expected}  rate/sub ${r.rate.toFixed(0)} msg/s  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms`;
  console.log(row('no stall', base));
  console.log(row('1 stalled', stalled));
  const rateRatio = base.rate / stalled.rate;
  const p99Ratio = stalled.p99 / base.p99;
  console.log(`ratio: rate ${rateRatio.toFixed(3)}x, p99 ${p99Ratio.toFixed(3)}x (target <= 1.2x): ${rateRatio <= 1.2 && p99Ratio <= 1.2 ? 'PASS' : 'FAIL'}`);
  const m = await relay.metricsText();
  console.log(m.split('\n').filter((l) => l.startsWith('fastpubsub_dropped_messages_total{reason="slow_consumer"}')).join('\n'));
} finally {
  await relay.close({ graceMs: 0 });
  await rm(dataDir, { recursive: true, force: true });
}
