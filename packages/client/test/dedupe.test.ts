import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OverlapFilter, payloadKey } from '../src/dedupe.js';
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

test('overlap filter is inactive with one connection; forgetting a closed one stops matching', () => {
  const f = new OverlapFilter<string>();
  f.track('A');
  assert.equal(f.active, false);
  f.track('B');
  assert.equal(f.active, true);
  f.forget('A');
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
