import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OVERLAP_GRACE_MS, OverlapFilter, payloadKey } from '../src/dedupe.js';
import { backoffDelay } from '../src/options.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('overlap filter: each message once, legitimate repeats kept, any interleaving', () => {
  // The publisher sends x, x, y; both connections deliver all three, interleaved differently.
  const keys = ['x', 'x', 'y'].map((p) => payloadKey('t', 'c', enc(p)));
  for (const order of [[0, 0, 0, 1, 1, 1], [0, 1, 0, 1, 0, 1], [1, 1, 0, 0, 0, 1], [1, 0, 0, 1, 1, 0]]) {
    const f = new OverlapFilter<string>();
    f.track('A');
    f.track('B');
    const next = { A: 0, B: 0 };
    const out: string[] = [];
    for (const side of order) {
      const conn = side === 0 ? 'A' : 'B';
      const k = keys[next[conn]++]!;
      if (f.accept(conn, k)) out.push(k);
    }
    assert.deepEqual(out.sort(), [...keys].sort(), `order ${order.join('')}`);
  }
});

test('overlap filter: three overlapping connections (two quick migrations) deliver each message once', () => {
  // Every connection delivers x, x, y (a legitimate repeat of x), in different interleavings.
  const keys = ['x', 'x', 'y'].map((p) => payloadKey('t', 'c', enc(p)));
  const conns = ['A', 'B', 'C'] as const;
  for (const order of ['AAABBBCCC', 'ABCABCABC', 'CBACBAABC', 'CCCAAABBB', 'BACCABBCA']) {
    const f = new OverlapFilter<string>();
    for (const c of conns) f.track(c);
    const next: Record<string, number> = { A: 0, B: 0, C: 0 };
    const out: string[] = [];
    for (const conn of order) {
      const k = keys[next[conn]!++]!;
      if (f.accept(conn, k)) out.push(k);
    }
    assert.deepEqual(out.sort(), [...keys].sort(), `order ${order}`);
  }
  // A connection that closed no longer holds copies back: after forgetting A, B and C still pair up.
  const f = new OverlapFilter<string>();
  for (const c of conns) f.track(c);
  assert.equal(f.accept('A', keys[2]!), true);
  f.forget('A');
  assert.equal(f.accept('B', keys[2]!), false);
  assert.equal(f.accept('C', keys[2]!), false);
  assert.equal(f.accept('C', keys[2]!), true, 'a second copy is new');
});

test('overlap filter is inactive with one connection; a closed one stops matching after its grace period', () => {
  let now = 0;
  const f = new OverlapFilter<string>({ now: () => now });
  f.track('A');
  assert.equal(f.active, false);
  f.track('B');
  assert.equal(f.active, true);
  f.forget('A');
  assert.equal(f.active, true, 'A is in its grace period');
  now += OVERLAP_GRACE_MS - 1;
  assert.equal(f.active, true);
  now += 1;
  assert.equal(f.active, false);
});

test('overlap filter: a copy the closed connection delivered just before closing is not delivered again', () => {
  const x = payloadKey('t', 'c', enc('x'));
  let now = 0;
  const f = new OverlapFilter<string>({ now: () => now });
  f.track('A');
  f.track('B');
  assert.equal(f.accept('A', x), true, 'the old connection delivers x');
  f.forget('A'); // and closes before the new one delivered x
  now += 500;
  assert.equal(f.accept('B', x), false, 'x arriving on the new connection right after is the same copy');
  assert.equal(f.accept('B', x), true, 'a second x is a new message');
  assert.equal(f.accept('A', x), false, 'a late delivery on the closed connection is redundant');
});

test('overlap filter: after the grace period the closed connection holds nothing back', () => {
  const x = payloadKey('t', 'c', enc('x'));
  let now = 0;
  const f = new OverlapFilter<string>({ now: () => now, graceMs: 100 });
  f.track('A');
  f.track('B');
  assert.equal(f.accept('A', x), true);
  f.forget('A');
  now += 100;
  assert.equal(f.active, false);
  assert.equal(f.accept('B', x), true, 'x later than the grace period is a new message');
});

test('overlap filter: the default clock is performance.now', async () => {
  const x = payloadKey('t', 'c', enc('x'));
  const f = new OverlapFilter<string>({ graceMs: 30 });
  f.track('A');
  f.track('B');
  f.accept('A', x);
  f.forget('A');
  assert.equal(f.active, true);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(f.active, false);
});

test('payload keys differ by tenant, channel and payload', () => {
  const k = payloadKey('t', 'c', enc('p'));
  assert.notEqual(k, payloadKey('t2', 'c', enc('p')));
  assert.notEqual(k, payloadKey('t', 'c2', enc('p')));
  assert.notEqual(k, payloadKey('t', 'c', enc('q')));
  assert.equal(k, payloadKey('t', 'c', enc('p')));
});

test('backoff: full jitter within [0, min(max, base·2^(n−1))]', () => {
  assert.equal(backoffDelay(1, 100, 1000, () => 0.999999), 99);
  assert.equal(backoffDelay(4, 100, 1000, () => 0.999999), 799);
  assert.equal(backoffDelay(10, 100, 1000, () => 0.999999), 999);
  assert.equal(backoffDelay(3, 100, 1000, () => 0), 0);
});
