import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { matchesPattern, SubscriptionIndex, pickOne } from '../src/fanout/index.js';

/** Sorted plain-object view of a match result, so comparisons ignore order. */
function view<S extends string>(m: ReadonlyMap<S, readonly string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [sink, patterns] of [...m].sort(([a], [b]) => (a < b ? -1 : 1))) out[sink] = [...patterns].sort();
  return out;
}

describe('matchesPattern (contract §5, §9 checks 8 and 9)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a.#', 'a', true],
    ['a.#', 'a.b', true],
    ['a.#', 'a.b.c', true],
    ['a.#', 'b', false],
    ['a.#', 'ab', false],
    ['#', 'a', true],
    ['#', 'x.y.z', true],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['>', 'a', true],
    ['a.*', 'a.b', true],
    ['a.*', 'a', false],
    ['a.*', 'a.b.c', false],
    ['a.b.*', 'a.b.c', true],
    ['a.b.*', 'a.b', false],
    ['a.*.c', 'a.x.c', true],
    ['a.*.c', 'a.x.d', false],
    ['public.chat.room1', 'public.chat.room1', true],
    ['public.chat.room1', 'public.chat.room10', false],
    ['public.chat', 'public.chat.room1', false],
    ['a.p*', 'a.pq', true],
    ['a.p*', 'a.p', true],
    ['a.p*', 'a.qp', false],
    ['a.p*', 'a.pq.r', false],
    ['p*.x', 'pa.x', true],
    ['a.p#', 'a.p1', true],
    ['a.p#', 'a.p1.x.y', true],
    ['a.p#', 'a', false],
    ['a.p#', 'a.q1', false],
    ['a.p>', 'a.p1', false],
    ['a.p>', 'a.p1.x', true],
    ['a.p>', 'a.q1.x', false],
  ];
  for (const [pattern, channel, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${channel}`, () => {
      assert.equal(matchesPattern(pattern, channel), expected);
      const idx = new SubscriptionIndex<string>();
      idx.add('t1', pattern, 's');
      assert.equal(idx.match('t1', channel).has('s'), expected);
    });
  }
});

describe('SubscriptionIndex', () => {
  it('check 8: one sink holding a.# and a.b.* gets one entry listing both for a.b.c, a.# only for a.b', () => {
    const idx = new SubscriptionIndex<string>();
    idx.add('t1', 'a.#', 'A');
    idx.add('t1', 'a.b.*', 'A');
    assert.deepEqual(view(idx.match('t1', 'a.b.c')), { A: ['a.#', 'a.b.*'] });
    assert.deepEqual(view(idx.match('t1', 'a.b')), { A: ['a.#'] });
  });

  it('check 10: tenants are isolated', () => {
    const idx = new SubscriptionIndex<string>();
    idx.add('t1', '#', 'A');
    assert.equal(idx.match('t2', 'a').size, 0);
    assert.equal(idx.match('t1', 'a').size, 1);
  });

  it('add and remove are idempotent; size, has, countFor, patternsOf', () => {
    const idx = new SubscriptionIndex<string>();
    assert.equal(idx.add('t1', 'a.#', 'A'), true);
    assert.equal(idx.add('t1', 'a.#', 'A'), false);
    assert.equal(idx.add('t1', 'a.#', 'B'), true);
    assert.equal(idx.add('t2', 'a.#', 'A'), true);
    assert.equal(idx.size, 3);
    assert.equal(idx.countFor('A'), 2);
    assert.equal(idx.has('t1', 'a.#', 'B'), true);
    assert.deepEqual(
      idx.patternsOf('A').sort((x, y) => x.tenant.localeCompare(y.tenant)),
      [{ tenant: 't1', pattern: 'a.#' }, { tenant: 't2', pattern: 'a.#' }],
    );
    assert.equal(idx.remove('t1', 'a.#', 'A'), true);
    assert.equal(idx.remove('t1', 'a.#', 'A'), false);
    assert.equal(idx.remove('t1', 'nope', 'A'), false);
    assert.equal(idx.size, 2);
    assert.deepEqual(view(idx.match('t1', 'a.x')), { B: ['a.#'] });
  });

  it('check 11 and 16: removeSink drops only that sink, and nothing lists its patterns afterwards', () => {
    const idx = new SubscriptionIndex<string>();
    idx.add('t1', 'a.#', 'A');
    idx.add('t1', 'a.*', 'A');
    idx.add('t2', 'x', 'A');
    idx.add('t1', 'a.*', 'B');
    assert.equal(idx.removeSink('A'), 3);
    assert.equal(idx.removeSink('A'), 0);
    assert.equal(idx.size, 1);
    assert.equal(idx.countFor('A'), 0);
    assert.deepEqual(view(idx.match('t1', 'a.b')), { B: ['a.*'] });
    assert.deepEqual(idx.tenantsWithInterest(), ['t1']);
  });

  it('interestOf lists distinct patterns; empty tenants disappear', () => {
    const idx = new SubscriptionIndex<string>();
    idx.add('t1', 'a.#', 'A');
    idx.add('t1', 'a.#', 'B');
    idx.add('t1', 'b', 'B');
    assert.deepEqual(idx.interestOf('t1').sort(), ['a.#', 'b']);
    idx.remove('t1', 'a.#', 'A');
    assert.deepEqual(idx.interestOf('t1').sort(), ['a.#', 'b']);
    idx.removeSink('B');
    assert.deepEqual(idx.interestOf('t1'), []);
    assert.deepEqual(idx.tenantsWithInterest(), []);
  });

  it('the cache is invalidated by add and remove in that tenant, and survives other tenants', () => {
    const idx = new SubscriptionIndex<string>({ cacheSize: 8 });
    idx.add('t1', 'a.*', 'A');
    const first = idx.match('t1', 'a.b');
    assert.equal(idx.match('t1', 'a.b'), first, 'second lookup is served from the cache');
    idx.add('t2', 'a.*', 'Z');
    assert.equal(idx.match('t1', 'a.b'), first, 'another tenant does not invalidate');
    idx.add('t1', 'a.b', 'B');
    assert.deepEqual(view(idx.match('t1', 'a.b')), { A: ['a.*'], B: ['a.b'] });
    idx.remove('t1', 'a.*', 'A');
    assert.deepEqual(view(idx.match('t1', 'a.b')), { B: ['a.b'] });
    idx.removeSink('B');
    assert.equal(idx.match('t1', 'a.b').size, 0);
    idx.add('t1', 'a.b', 'C'); // tenant state is re-created: old entries must not resurface
    assert.deepEqual(view(idx.match('t1', 'a.b')), { C: ['a.b'] });
  });

  it('sinks are opaque objects', () => {
    const idx = new SubscriptionIndex<{ id: number }>();
    const a = { id: 1 };
    const b = { id: 1 };
    idx.add('t', 'x', a);
    idx.add('t', 'x', b);
    assert.equal(idx.match('t', 'x').size, 2);
  });

  it('matches a large index without touching unrelated subscriptions (prefix lookup both ways)', () => {
    const idx = new SubscriptionIndex<number>();
    for (let i = 0; i < 2000; i++) idx.add('t', `p${i}*.x`, i);
    assert.deepEqual([...idx.match('t', 'p17abc.x').keys()].sort((x, y) => x - y), [1, 17]);
  });
});

// Small alphabets so random patterns and channels actually collide.
const chanToken = fc.constantFrom('a', 'b', 'ab', 'ba', 'abc');
const midToken = fc.constantFrom('a', 'b', 'ab', 'ba', '*', 'a*', 'ab*', 'b*');
const lastToken = fc.constantFrom('a', 'b', 'ab', '*', 'a*', '#', '>', 'a#', 'a>', 'b#');
const pattern = fc
  .tuple(fc.array(midToken, { maxLength: 3 }), lastToken)
  .map(([mid, last]) => [...mid, last].join('.'));
const channel = fc.array(chanToken, { minLength: 1, maxLength: 5 }).map((t) => t.join('.'));
const tenant = fc.constantFrom('t1', 't2');
const sink = fc.constantFrom('A', 'B', 'C');

type Op =
  | { op: 'add' | 'remove'; tenant: string; pattern: string; sink: string }
  | { op: 'removeSink'; sink: string }
  | { op: 'match'; tenant: string; channel: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), tenant, pattern, sink }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), tenant, pattern, sink }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeSink' as const), sink }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('match' as const), tenant, channel }) },
);

function expected(model: Set<string>, t: string, ch: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of [...model].sort()) {
    const [kt, kp, ks] = JSON.parse(key) as [string, string, string];
    if (kt !== t || !matchesPattern(kp, ch)) continue;
    (out[ks] ??= []).push(kp);
  }
  for (const k of Object.keys(out)) out[k]?.sort();
  return out;
}

describe('SubscriptionIndex against the matchesPattern oracle (fast-check)', () => {
  it('match equals the oracle over random add/remove/removeSink/match sequences', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.integer({ min: 0, max: 4 }), (ops, cacheSize) => {
        const idx = new SubscriptionIndex<string>({ cacheSize });
        const model = new Set<string>();
        for (const o of ops) {
          if (o.op === 'match') {
            assert.deepEqual(view(idx.match(o.tenant, o.channel)), expected(model, o.tenant, o.channel));
            continue;
          }
          if (o.op === 'removeSink') {
            const keys = [...model].filter((k) => (JSON.parse(k) as string[])[2] === o.sink);
            assert.equal(idx.removeSink(o.sink), keys.length);
            for (const k of keys) model.delete(k);
            continue;
          }
          const key = JSON.stringify([o.tenant, o.pattern, o.sink]);
          if (o.op === 'add') {
            assert.equal(idx.add(o.tenant, o.pattern, o.sink), !model.has(key));
            model.add(key);
          } else {
            assert.equal(idx.remove(o.tenant, o.pattern, o.sink), model.has(key));
            model.delete(key);
          }
          assert.equal(idx.size, model.size);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('every pattern is listed once per sink, even when many patterns of one sink match', () => {
    fc.assert(
      fc.property(fc.uniqueArray(pattern, { maxLength: 20 }), channel, (patterns, ch) => {
        const idx = new SubscriptionIndex<string>();
        for (const p of patterns) idx.add('t', p, 'S');
        const got = idx.match('t', ch).get('S') ?? [];
        assert.equal(new Set(got).size, got.length);
        assert.deepEqual([...got].sort(), patterns.filter((p) => matchesPattern(p, ch)).sort());
      }),
      { numRuns: 300 },
    );
  });
});

describe('pickOne', () => {
  it('returns undefined for no candidates and clamps random() = 1', () => {
    assert.equal(pickOne([], () => 0.5), undefined);
    assert.equal(pickOne(['a', 'b'], () => 1), 'b');
    assert.equal(pickOne(['a', 'b'], () => 0), 'a');
  });

  it('is uniform over candidates (seeded LCG, chi-square bound)', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const counts = [0, 0, 0];
    const n = 30000;
    for (let i = 0; i < n; i++) { const k = pickOne([0, 1, 2], random) as number; counts[k] = (counts[k] ?? 0) + 1; }
    const chi = counts.reduce((s, c) => s + (c - n / 3) ** 2 / (n / 3), 0);
    assert.ok(chi < 13.8, `chi-square ${chi} too large for 2 dof (p=0.001): ${counts.join(',')}`);
  });
});
