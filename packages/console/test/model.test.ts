// The map's model and anomaly detector, on hand-made messages (pure code: time is a parameter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkBaseline } from '../src/map/anomalies.js';
import { decodeNetMsg, type NetMsg } from '../src/map/messages.js';
import { NetworkModel, POP_DOWN_AFTER_MS } from '../src/map/model.js';

const health = (pop: string, ts: number): NetMsg => ({ kind: 'health', pop, status: 'up', region: 'r', city: pop.toUpperCase(), lat: 1, lon: 2, ts, connections: 0 });
const links = (pop: string, peer: string, rttMs: number, loss = 0, up = true): NetMsg => ({ kind: 'links', pop, ts: 0, links: [{ peer, up, rttMs, jitterMs: 1, loss }] });

test('baseline: a steady link raises nothing; an RTT jump above the band is raised once per excursion', () => {
  const b = new LinkBaseline();
  for (let i = 0; i < 20; i++) assert.deepEqual(b.observe(100 + (i % 3), 0), {});
  const jump = b.observe(160, 0);
  assert.match(jump.rtt ?? '', /RTT 160 ms, above its band/);
  assert.deepEqual(b.observe(170, 0), {}, 'still the same excursion');
});

test('baseline: a loss spike above the baseline is raised; nothing during warm-up', () => {
  const b = new LinkBaseline();
  assert.deepEqual(b.observe(100, 0.5), {}, 'no baseline yet');
  const c = new LinkBaseline();
  for (let i = 0; i < 10; i++) c.observe(100, 0);
  assert.match(c.observe(100, 0.2).loss ?? '', /loss 20\.0 %/);
});

test('model: a silent PoP goes down after POP_DOWN_AFTER_MS and comes back up; links merge both ends', () => {
  const m = new NetworkModel();
  m.ingest(health('a', 0), 0);
  m.ingest(health('b', 0), 0);
  m.ingest(links('a', 'b', 100), 0);
  m.ingest(links('b', 'a', 120), 0);
  assert.deepEqual(m.links().map((l) => [l.a, l.b, l.up, l.rttMs]), [['a', 'b', true, 120]]);
  m.ingest(health('a', 2000), 2000);
  assert.deepEqual(m.tick(POP_DOWN_AFTER_MS + 1).map((x) => [x.kind, x.place]), [['pop-down', 'b']]);
  assert.equal(m.links()[0]?.up, false, 'a link to a dead PoP is down');
  assert.deepEqual(m.ingest(health('b', 3000), 3000).map((x) => x.kind), ['pop-up']);
});

test('model: a PoP all of whose neighbours report it down is down at once; route changes are events; gains sorted', () => {
  const m = new NetworkModel();
  for (const p of ['a', 'b', 'c']) m.ingest(health(p, 0), 0);
  m.ingest({ kind: 'routes', pop: 'a', ts: 0, routes: [{ dest: 'c', path: ['a', 'b', 'c'], pathLatencyMs: 220, directLatencyMs: 240 }, { dest: 'b', path: ['a', 'b'], pathLatencyMs: 70, directLatencyMs: 70 }] }, 0);
  assert.deepEqual(m.pairs().map((p) => [p.to, p.gainMs]), [['c', 20], ['b', 0]]);
  assert.deepEqual(m.improvedShare(), { improved: 1, comparable: 2 });
  const flap = m.ingest({ kind: 'routes', pop: 'a', ts: 1, routes: [{ dest: 'c', path: ['a', 'c'], pathLatencyMs: 240, directLatencyMs: 240 }] }, 1);
  assert.deepEqual(flap.map((x) => [x.kind, x.place]), [['route', 'a→c']]);
  m.ingest(links('a', 'c', 480), 1);
  m.ingest(links('b', 'c', 300), 1);
  const down = [...m.ingest(links('a', 'c', 480, 0, false), 2), ...m.ingest(links('b', 'c', 300, 0, false), 2)];
  assert.deepEqual(down.map((x) => x.kind), ['link-down', 'link-down', 'pop-down']);
});

test('messages: malformed or oversized input is dropped, markup passes through as plain data', () => {
  const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
  assert.equal(decodeNetMsg(new TextEncoder().encode('{not json')), undefined);
  assert.equal(decodeNetMsg(enc({ kind: 'health', pop: 'x', ts: 1, status: 'up', lat: 'north', lon: 1 })), undefined);
  assert.equal(decodeNetMsg(enc({ kind: 'links', pop: 'x'.repeat(500), ts: 1, links: [] })), undefined);
  const h = decodeNetMsg(enc({ kind: 'health', pop: 'x', ts: 1, status: 'up', lat: 1, lon: 2, city: '<b>x</b>', region: 'r' }));
  assert.equal(h?.kind === 'health' ? h.city : undefined, '<b>x</b>');
});
