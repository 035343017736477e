// The relay's telemetry publishers through their seams: what they publish, when, and where.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelCounter, NetworkStatePublisher, TenantStatsPublisher, topChannels } from '../src/telemetry/index.js';

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

test('channel counter: exact counts for the first 1000 channels of an interval, the rest in other; top-N by messages', () => {
  const counter = new ChannelCounter();
  for (let i = 0; i < 1500; i++) counter.record('t', `c.${i}`, 10);
  for (let i = 0; i < 50; i++) counter.record('t', 'c.7', 10);
  for (let i = 0; i < 20; i++) counter.record('t', 'c.3', 100);
  const drained = counter.drain();
  const t = drained.get('t')!;
  assert.equal(t.counted.size, 1000);
  assert.equal(t.otherMessages, 500);
  assert.deepEqual(topChannels(t, 2).map((c) => [c.channel, c.messages]), [['c.7', 51], ['c.3', 21]]);
  assert.equal(counter.drain().size, 0, 'a fresh interval after a drain');
});
