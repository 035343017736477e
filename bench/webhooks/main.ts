// bench:webhooks — webhooks on a 3-relay mesh with the embedded control plane (relays as
// processes behind the link emulator, 20/10/15 ms links):
//   1. inbound: --requests POSTs signed per Standard Webhooks at Tokyo, --concurrency at a time:
//      requests/s and POST→202 p50/p99; a WebSocket subscriber at Frankfurt counts what arrives;
//   2. outbound: one hook on the same channels to a local HTTP server (always 200): every
//      message POSTed exactly once (duplicates counted), publish→POST p50/p99, POSTs/s;
//   3. the same with a target failing each message's first attempt: retries, delivered, time.
// Usage: npm run bench:webhooks -- [--requests N] [--concurrency N]
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startDevCluster } from '@fastpubsub/cli';
import { until } from '@fastpubsub/testkit/relay';

const USAGE = `Usage: npm run bench:webhooks -- [--requests N] [--concurrency N]

Inbound and outbound webhooks on a 3-relay mesh with the embedded control plane: inbound
requests/s and latency, outbound exactly-once deliveries and publish-to-POST latency, retries.
  --requests N     inbound POSTs (default 2000)
  --concurrency N  POSTs in flight (default 16)
  -h, --help       this help (runs nothing)
`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '16' } } });
const REQUESTS = Math.max(10, Number(values.requests));
const CONCURRENCY = Math.max(1, Number(values.concurrency));

const topology = {
  nodes: [{ id: 'tokyo' }, { id: 'frankfurt' }, { id: 'virginia' }],
  links: [
    { a: 'tokyo', b: 'frankfurt', delayMs: 20 },
    { a: 'frankfurt', b: 'virginia', delayMs: 10 },
    { a: 'tokyo', b: 'virginia', delayMs: 15 },
  ],
};
const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;

/** A local target: records when each webhook-id arrived; `fail(id, n)` answers 500 to attempt n. */
async function target(fail: (attempt: number) => boolean): Promise<{ url: string; got: Map<string, number[]>; close: () => void }> {
  const got = new Map<string, number[]>();
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      const times = got.get(id) ?? [];
      times.push(performance.now());
      got.set(id, times);
      res.writeHead(fail(times.length) ? 500 : 200).end();
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`, got, close: () => { s.closeAllConnections(); s.close(); } };
}

const c = await startDevCluster(topology, { logLevel: 'warn', control: true, mesh: { probeIntervalMs: 200 } });
const closers: Array<() => void> = [];
try {
  const control = c.control!;
  const tokyo = c.nodes.get('tokyo')!;
  const frankfurt = c.nodes.get('frankfurt')!;
  const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(control.url + path, {
      method,
      headers: { authorization: `Bearer ${control.operatorToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const tenant = control.tenant;
  const expires = new Date(Date.now() + 3600_000).toISOString();
  const token = (await api('POST', '/v1/get-token', { right: { tenant_grants: [{ tenant_ids: [tenant], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }], expires_at: expires }, created_by: 'bench' }))['token'] as string;

  const ok = await target(() => false);
  closers.push(ok.close);
  const inbound = await api('POST', `/v1/tenants/${tenant}/hooks/inbound`, { scheme: 'standard', channel: 'bench.in' });
  const outbound = await api('POST', `/v1/tenants/${tenant}/hooks/outbound`, { pattern: 'bench.#', url: ok.url });
  const hookId = inbound['id'] as string;
  const key = Buffer.from((inbound['secret'] as string).slice(6), 'base64');
  const sign = (id: string, ts: number, body: string): string => 'v1,' + createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  const post = async (id: string, body: string): Promise<Response> => {
    const ts = Math.floor(Date.now() / 1000);
    return fetch(`${tokyo.httpUrl}/v1/hooks/${hookId}`, { method: 'POST', body, headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(id, ts, body) } });
  };

  const ws = new WebSocket(frankfurt.wsUrl, ['llps.v1', `at.${token}`], { perMessageDeflate: false });
  closers.push(() => ws.close());
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  let received = 0;
  ws.on('message', (data: Buffer) => { if (!data.toString('latin1').startsWith('OK')) received++; });
  ws.send(`SUB:${tenant}:bench.#`);
  // Mesh and hooks up: warm-up POSTs until Frankfurt's subscriber has one.
  await until('the mesh carrying Tokyo → Frankfurt', 60_000, async () => {
    const r = await post(`warm_${Date.now()}`, '{"warm":true}');
    await r.text();
    return received > 0 ? true : undefined;
  }, 200);
  await new Promise((r) => setTimeout(r, 500));
  received = 0;
  ok.got.clear();

  // 1 + 2. Inbound at Tokyo; the outbound hook delivers every message once, from Tokyo.
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      const i = next++;
      const t = performance.now();
      const res = await post(`b_${i}`, JSON.stringify({ i, at: t }));
      const { id } = (await res.json()) as { id: string };
      if (res.status !== 202) throw new Error(`POST answered ${res.status}`);
      lat.push(performance.now() - t);
      sentAt.set(`msg_${id}`, t);
    }
  }));
  const inboundSecs = (performance.now() - t0) / 1000;
  await until('every message at the outbound target', 60_000, () => (ok.got.size >= REQUESTS ? true : undefined), 50);
  const outboundSecs = (Math.max(...[...ok.got.values()].map((v) => v[0]!)) - t0) / 1000;
  // Best-effort like any publish: report what arrived within 10 s rather than fail.
  await until('Frankfurt', 10_000, () => (received >= REQUESTS ? true : undefined), 50).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1000));
  const atFrankfurt = received;
  const dupes = [...ok.got.values()].reduce((n, v) => n + v.length - 1, 0);
  const toPost = [...ok.got.entries()].map(([id, v]) => v[0]! - (sentAt.get(id) ?? NaN)).filter(Number.isFinite);

  // 3. A target failing each message's first attempt (a third of the requests).
  const flaky = await target((attempt) => attempt === 1);
  closers.push(flaky.close);
  await api('DELETE', `/v1/tenants/${tenant}/hooks/outbound/${outbound['id'] as string}`);
  const flakyHook = await api('POST', `/v1/tenants/${tenant}/hooks/outbound`, { pattern: 'bench.#', url: flaky.url });
  await new Promise((r) => setTimeout(r, 1000));
  const n3 = Math.ceil(REQUESTS / 3);
  const t3 = performance.now();
  for (let i = 0; i < n3; i++) await (await post(`f_${i}`, JSON.stringify({ i }))).text();
  await until('every flaky message delivered', 120_000, () => ([...flaky.got.values()].filter((v) => v.length >= 2).length >= n3 ? true : undefined), 100);
  const flakySecs = (performance.now() - t3) / 1000;
  const status = await until('the hook status', 20_000, async () => {
    const s = (await api('GET', `/v1/tenants/${tenant}/hooks/outbound/${flakyHook['id'] as string}`))['status'] as { delivered: number; retried: number; dropped: number };
    return s.delivered >= n3 ? s : undefined;
  }, 500);

  console.log(`bench:webhooks — 3 relays (20/10/15 ms links), control plane embedded, ${REQUESTS} requests, ${CONCURRENCY} in flight\n`);
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| inbound requests/s (Standard Webhooks, verified, published at Tokyo) | ${(REQUESTS / inboundSecs).toFixed(0)} |`);
  console.log(`| inbound POST → 202 p50 / p99 | ${ms(pct(lat, 0.5))} / ${ms(pct(lat, 0.99))} |`);
  console.log(`| messages at the Frankfurt subscriber | ${atFrankfurt} of ${REQUESTS} |`);
  console.log(`| outbound POSTs (distinct messages / duplicates) | ${ok.got.size} / ${dupes} |`);
  console.log(`| outbound POSTs/s (first publish → last first attempt) | ${(ok.got.size / outboundSecs).toFixed(0)} |`);
  console.log(`| publish → outbound POST p50 / p99 | ${ms(pct(toPost, 0.5))} / ${ms(pct(toPost, 0.99))} |`);
  console.log(`| first attempt failing: ${n3} messages delivered in | ${flakySecs.toFixed(1)} s (hook status delivered ${status.delivered}, retried ${status.retried}, dropped ${status.dropped}) |`);
} finally {
  for (const close of closers) close();
  await c.stop();
}
