import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeAdvert,
  DuplicateFilter,
  encodeAdvert,
  InterestTable,
  LinkHealth,
  linkCostMs,
  nextTtl,
  planForwarding,
  type InterestSnapshot,
  type RouteAdvert,
} from '../src/mesh/route/index.js';

describe('linkCostMs', () => {
  it('is one-way latency on a clean link', () => {
    assert.equal(linkCostMs({ rttMs: 100, jitterMs: 0, loss: 0 }), 50);
  });
  it('prices jitter and loss (retransmission timeouts, geometric)', () => {
    assert.equal(linkCostMs({ rttMs: 100, jitterMs: 10, loss: 0 }), 55);
    // 1 % loss: 0.01/0.99 × (100 + 40) ≈ 1.41 ms on top of 55.
    assert.ok(Math.abs(linkCostMs({ rttMs: 100, jitterMs: 10, loss: 0.01 }) - 56.414) < 0.01);
  });
  it('stays finite and positive on nonsense input', () => {
    assert.ok(Number.isFinite(linkCostMs({ rttMs: 10, jitterMs: 0, loss: 1 })));
    assert.ok(linkCostMs({ rttMs: 0, jitterMs: 0, loss: 0 }) > 0);
    assert.ok(Number.isFinite(linkCostMs({ rttMs: NaN, jitterMs: -1, loss: -3 })));
  });
});

describe('LinkHealth', () => {
  it('smooths RTT and jitter, counts loss, declares dead and up again', () => {
    const h = new LinkHealth({ deadAfterMs: 800, upAfterReplies: 2 });
    let t = 0;
    let id = 0;
    const probe = (rtt: number | undefined): void => {
      const me = ++id;
      h.probeSent(me, t);
      if (rtt !== undefined) h.probeReply(me, t + rtt);
      t += 200;
      h.tick(t);
    };
    for (let i = 0; i < 50; i++) probe(i % 2 === 0 ? 90 : 110);
    assert.equal(h.state, 'up');
    const m = h.metrics();
    assert.ok(m && Math.abs(m.rttMs - 100) < 5 && m.jitterMs > 5 && m.jitterMs < 25, JSON.stringify(m));
    assert.equal(m.loss, 0);
    for (let i = 0; i < 3; i++) probe(undefined);
    assert.equal(h.state, 'up', 'three lost probes (600 ms) are not dead yet');
    for (let i = 0; i < 2; i++) probe(undefined);
    assert.equal(h.state, 'dead');
    assert.ok((h.metrics()?.loss ?? 0) > 0.2);
    probe(100);
    assert.equal(h.state, 'dead', 'one reply is not enough to come back');
    probe(100);
    assert.equal(h.state, 'up');
  });
  it('ignores late and unknown replies', () => {
    const h = new LinkHealth();
    h.probeReply(42, 10);
    assert.equal(h.metrics(), undefined);
  });
});

describe('advert codec', () => {
  it('round-trips, including unreachable entries', () => {
    const a: RouteAdvert = {
      from: 'tyo',
      full: true,
      entries: [
        { dest: 'tyo', seq: 4, cost: 0, path: ['tyo'] },
        { dest: 'fra', seq: 2, cost: 220.25, path: ['tyo', 'sin', 'fra'] },
        { dest: 'lon', seq: 7, cost: Infinity, path: [] },
      ],
    };
    assert.deepEqual(decodeAdvert(encodeAdvert(a)), a);
  });
  it('rejects malformed input with a bad_frame error', () => {
    const enc = new TextEncoder();
    for (const bad of ['', '{}', '{"v":1,"f":"a","full":1,"e":[["x",-1,0]]}', '{"v":1,"f":"a","full":1,"e":[["x",1,5,3]]}', '\u00ff']) {
      assert.throws(() => decodeAdvert(enc.encode(bad)), (e: unknown) => (e as { code?: string }).code === 'bad_frame');
    }
  });
});

describe('forwarding plan', () => {
  const table = { nextHop: (d: string): string | undefined => ({ fra: 'sin', lon: 'sin', sin: 'sin', nyc: 'nyc' })[d] };
  it('groups destinations by next hop, notes local and unreachable', () => {
    const p = planForwarding('tyo', ['fra', 'tyo', 'lon', 'nyc', 'mars', 'fra'], table);
    assert.deepEqual([...p.byNextHop], [['sin', ['fra', 'lon']], ['nyc', ['nyc']]]);
    assert.equal(p.local, true);
    assert.deepEqual(p.unreachable, ['mars']);
  });
  it('TTL counts down to a drop', () => {
    assert.equal(nextTtl(8), 7);
    assert.equal(nextTtl(1), undefined);
    assert.equal(nextTtl(0), undefined);
  });
  it('duplicate filter: time window and size bound', () => {
    const f = new DuplicateFilter({ windowMs: 1000, maxEntries: 3 });
    assert.equal(f.seen('a', 0), false);
    assert.equal(f.seen('a', 500), true);
    assert.equal(f.seen('a', 1000), false, 'expired after the window');
    for (const id of ['b', 'c', 'd']) f.seen(id, 1001);
    assert.equal(f.size, 3);
    assert.equal(f.seen('a', 1002), false, 'evicted by the size bound');
  });
});

describe('InterestTable', () => {
  it('answers destinationsFor with the fan-out pattern semantics', () => {
    const tyo = new InterestTable({ self: 'tyo' });
    const fra = new InterestTable({ self: 'fra' });
    const sin = new InterestTable({ self: 'sin' });
    fra.addLocal('t1', 'chat.*');
    sin.addLocal('t1', 'chat.room1');
    sin.addLocal('t2', 'chat.#');
    tyo.addLocal('t1', 'ch*.>');
    for (const s of [fra.localSnapshot(), sin.localSnapshot()]) assert.equal(tyo.apply(s), true);
    assert.deepEqual(tyo.destinationsFor('t1', 'chat.room1'), ['fra', 'sin', 'tyo']);
    assert.deepEqual(tyo.destinationsFor('t1', 'chat.room2'), ['fra', 'tyo']);
    assert.deepEqual(tyo.destinationsFor('t1', 'chat'), []);
    assert.deepEqual(tyo.destinationsFor('t2', 'chat'), ['sin']);
    assert.deepEqual(tyo.destinationsFor('t3', 'chat.room1'), []);
  });
  it('versions: older snapshots are ignored, refcounts hide duplicate subscriptions', () => {
    const fra = new InterestTable({ self: 'fra' });
    const tyo = new InterestTable({ self: 'tyo' });
    assert.equal(fra.addLocal('t', 'a.b'), true);
    assert.equal(fra.addLocal('t', 'a.b'), false);
    const v1 = fra.localSnapshot();
    assert.equal(fra.removeLocal('t', 'a.b'), false);
    assert.equal(fra.removeLocal('t', 'a.b'), true);
    const v2 = fra.localSnapshot();
    assert.equal(tyo.apply(v2), true);
    assert.equal(tyo.apply(v1), false);
    assert.deepEqual(tyo.destinationsFor('t', 'a.b'), []);
  });
  it('digest exchange repairs a lost push; a restarted PoP jumps past its old version', () => {
    const a = new InterestTable({ self: 'a' });
    const b = new InterestTable({ self: 'b' });
    a.addLocal('t', 'x');
    for (const s of a.newerThan(b.digest())) b.apply(s);
    assert.deepEqual(b.destinationsFor('t', 'x'), ['a']);
    assert.deepEqual(a.newerThan(b.digest()), []);
    const a2 = new InterestTable({ self: 'a' }); // restarted, version back to 1
    for (const s of b.newerThan(a2.digest())) a2.apply(s);
    a2.addLocal('t', 'y');
    const snap: InterestSnapshot = a2.localSnapshot();
    assert.ok(snap.version > a.localSnapshot().version);
    assert.equal(b.apply(snap), true);
    assert.deepEqual(b.destinationsFor('t', 'y'), ['a']);
  });
  it('interest of a PoP unreachable for the expiry time is forgotten; a brief outage keeps it', () => {
    const a = new InterestTable({ self: 'a' });
    for (const pop of ['b', 'c']) {
      const t = new InterestTable({ self: pop });
      t.addLocal('t', 'x');
      a.apply(t.localSnapshot());
    }
    a.addLocal('t', 'x');
    let down = new Set(['b', 'c']);
    const reachable = (pop: string): boolean => !down.has(pop);
    assert.deepEqual(a.expireUnreachable(0, reachable, 1000), []);
    down = new Set(['c']); // b is back before its expiry: its unreachable time restarts
    assert.deepEqual(a.expireUnreachable(600, reachable, 1000), []);
    down = new Set(['b', 'c']);
    assert.deepEqual(a.expireUnreachable(1000, reachable, 1000), ['c']);
    assert.deepEqual(a.destinationsFor('t', 'x'), ['a', 'b']);
    assert.deepEqual(a.expireUnreachable(2000, reachable, 1000), ['b']);
    assert.deepEqual(a.destinationsFor('t', 'x'), ['a'], 'own interest never expires');
    assert.deepEqual(Object.keys(a.digest()), ['a'], 'a returning PoP is resent by digest exchange');
  });
  it('floods across a line of PoPs within 1 s', () => {
    // 5 PoPs in a line, 100 ms per hop, a change pushed on receipt: 400 ms end to end; the
    // 500 ms digest exchange repairs a lost push within one more interval.
    const ids = ['p0', 'p1', 'p2', 'p3', 'p4'];
    const t = ids.map((self) => new InterestTable({ self }));
    (t[0] as InterestTable).addLocal('t', 'news.>');
    let at = 0;
    let wave = [(t[0] as InterestTable).localSnapshot()];
    for (let i = 1; i < ids.length; i++) {
      at += 100;
      const next: InterestSnapshot[] = [];
      for (const s of wave) if ((t[i] as InterestTable).apply(s)) next.push(s);
      wave = next;
    }
    assert.ok(at < 1000);
    assert.deepEqual((t[4] as InterestTable).destinationsFor('t', 'news.eu'), ['p0']);
  });
});
