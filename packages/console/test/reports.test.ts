// The tenant console's report decoding and per-PoP history (pure code, hand-made messages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PopHistory } from '../src/tenant/pop-history.js';
import { Traffic, decodeStats } from '../src/tenant/traffic.js';

const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const report = (pop: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'tenant-stats',
  pop,
  tenant: 'demo',
  ts: 1,
  messagesPerSec: 10,
  bytesPerSec: 100,
  connections: 2,
  topChannels: [{ channel: 'a', messagesPerSec: 10, bytesPerSec: 100, subscribers: 3 }],
  channelsSeen: 1,
  otherMessagesPerSec: 0,
  topPublishers: [{ tokenId: 'tok1', messagesPerSec: 10 }],
  countries: { JP: 1, DE: 1 },
  agents: { browser: 2 },
  flagged: [{ id: 7, edge: 'ws', country: 'DE', agent: 'crawler', tokenId: 'tok1', flags: ['crawler_agent'], openedAt: 1 }],
  popFigures: { dropsPerSec: { slow_consumer: 2 }, refusalsPerSec: { tenant: 1 }, latencyBoundsMs: [1, 10], latencyCounts: [5, 1, 0] },
  ...extra,
});

test('reports: subscribers, publishers, countries and flags are summed over PoPs', () => {
  const t = new Traffic();
  for (const pop of ['tokyo', 'frankfurt']) t.add(decodeStats(encode(report(pop)))!, 1000);
  assert.deepEqual(t.channels(1000, '', 5).map((c) => [c.channel, c.subscribers]), [['a', 6]]);
  assert.deepEqual(t.publishers(1000, 5).map((p) => [p.tokenId, p.messagesPerSec]), [['tok1', 20]]);
  assert.deepEqual(t.tally(1000, 'countries'), [['DE', 2], ['JP', 2]]);
  assert.deepEqual(t.fresh(1000).flatMap((r) => r.flagged.map((f) => f.flags)), [['crawler_agent'], ['crawler_agent']]);
});

test('reports: bad parts are dropped, the rest is kept', () => {
  const r = decodeStats(encode(report('p', { countries: { JP: -1, DE: 'x', FR: 2 }, flagged: [{ id: 'x' }], popFigures: { latencyBoundsMs: [1], latencyCounts: [1] } })))!;
  assert.deepEqual(r.countries, { FR: 2 });
  assert.deepEqual(r.flagged, []);
  assert.equal(r.popFigures, undefined, 'a histogram needs one count more than bounds');
  const old = decodeStats(encode({ ...report('p'), topPublishers: undefined, countries: undefined, popFigures: undefined }))!;
  assert.deepEqual([old.topPublishers, old.countries, old.popFigures], [[], {}, undefined], 'reports from older PoPs still decode');
});

test('pop history: per-second series for a minute; latency summed over it', () => {
  const h = new PopHistory();
  const f = (drops: number) => ({ dropsPerSec: { slow_consumer: drops }, refusalsPerSec: {}, latencyBoundsMs: [1, 10], latencyCounts: [1, 2, 0] });
  for (let s = 0; s < 70; s++) h.add('tokyo', f(s), s * 1000);
  const [[pop, series]] = h.pops() as [[string, ReturnType<PopHistory['pops']>[0][1]]];
  assert.equal(pop, 'tokyo');
  assert.equal(series.drops.get('slow_consumer')!.length, 60);
  assert.equal(PopHistory.latest(series.drops), 69);
  assert.deepEqual(PopHistory.latencyTotals(series), [60, 120, 0]);
});

