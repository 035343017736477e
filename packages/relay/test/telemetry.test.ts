// The relay's telemetry publishers through their seams: what they publish, when, and where.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelCounter, NetworkStatePublisher, TenantStatsPublisher } from '../src/telemetry/index.js';

const decode = (p: Uint8Array): Record<string, unknown> => JSON.parse(new TextDecoder().decode(p)) as Record<string, unknown>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('network state: health, links and routes at start; a link going down is published at once; stop says stopping', async () => {
  let linkUp = true;
  const sent: [string, Record<string, unknown>][] = [];
  const pub = new NetworkStatePublisher({
    source: {
      id: 'tokyo',
      links: () => [{ peer: 'frankfurt', state: linkUp ? 'up' : 'down', rttMs: 480, jitterMs: 2, loss: 0 }],
      routes: () => [{ dest: 'frankfurt', path: ['tokyo', 'singapore', 'frankfurt'], pathLatencyMs: 221, directLatencyMs: 241 }],
    },
    publish: (channel, payload) => sent.push([channel, decode(payload)]),
    region: 'ap-northeast',
    location: { lat: 35.68, lon: 139.69, city: 'Tokyo' },
    connections: () => 3,
    now: () => 1000,
    intervalMs: 60_000, // only the change check runs during the test
    changeCheckMs: 10,
  });
  pub.start();
  assert.deepEqual(sent.map(([c]) => c), ['net.health.tokyo', 'net.links.tokyo', 'net.routes.tokyo']);
  assert.deepEqual([sent[0]![1]['city'], sent[0]![1]['lat'], sent[0]![1]['connections']], ['Tokyo', 35.68, 3]);
  await sleep(50);
  assert.equal(sent.length, 3, 'nothing changed, nothing sent');
  linkUp = false;
  await sleep(100);
  const links = sent.filter(([c]) => c === 'net.links.tokyo').map(([, m]) => m['links'] as { up: boolean }[]);
  assert.deepEqual(links.map((l) => l[0]?.up), [true, false]);
  pub.stop();
  assert.equal(sent.at(-1)![1]['status'], 'stopping');
});

test('tenant stats: per-second rates from cumulative counters, one zero report after going quiet, never the system tenant', () => {
  let now = 0;
  const usage: Record<string, { messages: number; bytes: number }> = {};
  const conns: Record<string, number> = {};
  const sent: [string, Record<string, unknown>][] = [];
  const pub = new TenantStatsPublisher({
    pop: 'tokyo',
    usage: () => structuredClone(usage),
    connections: (t) => conns[t] ?? 0,
    publish: (channel, payload) => sent.push([channel, decode(payload)]),
    now: () => now,
    intervalMs: 60_000,
  });
  pub.start();
  usage['a.b'] = { messages: 200, bytes: 4000 };
  usage['fps-system'] = { messages: 50, bytes: 10 };
  conns['a.b'] = 1;
  now = 2000;
  pub.tick();
  assert.deepEqual(sent.map(([c, m]) => [c, m['messagesPerSec'], m['bytesPerSec'], m['connections']]), [['tenant.a~2eb.stats.tokyo', 100, 2000, 1]]);
  conns['a.b'] = 0;
  now = 3000;
  pub.tick();
  now = 4000;
  pub.tick();
  assert.deepEqual(sent.map(([, m]) => m['messagesPerSec']), [100, 0], 'one zero report, then silence');
  pub.stop();
});

test('channel counter: a space-saving sketch per tenant finds the busiest channels and publishers among 1500 distinct ones; a drain starts a fresh interval', () => {
  let now = 0;
  const counter = new ChannelCounter(() => now);
  for (let i = 0; i < 1500; i++) counter.record('t', `c.${i}`, 10, `tok${i % 40}`);
  for (let i = 0; i < 50; i++) counter.record('t', 'c.7', 10, 'hot-token');
  for (let i = 0; i < 20; i++) counter.record('t', 'c.3', 100, 'hot-token');
  now = 1000;
  const drained = counter.drain();
  const t = drained.get('t')!;
  assert.equal(t.channels.total, 1570);
  assert.equal(t.channels.size, 64, 'bounded: 64 counters however many channels');
  assert.deepEqual(t.channels.top(2).map((c) => c.key), ['c.7', 'c.3']);
  assert.equal(t.publishers.top(1)[0]?.key, 'hot-token');
  assert.equal(counter.lastInterval().seconds, 1);
  assert.equal(counter.drain().size, 0, 'a fresh interval after a drain');
});
