import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OutboundQueue } from '../src/fanout/index.js';

const bytes = (n: number, fill = 0): Uint8Array => new Uint8Array(n).fill(fill);

describe('OutboundQueue', () => {
  it('is a FIFO with byte accounting, peek and clear', () => {
    const q = new OutboundQueue({ maxBytes: 100, policy: 'disconnect' });
    assert.equal(q.shift(), undefined);
    assert.equal(q.peek(), undefined);
    q.push(bytes(10, 1), 1);
    q.push(bytes(20, 2), 2);
    assert.equal(q.length, 2);
    assert.equal(q.bytes, 30);
    assert.equal(q.peek()?.enqueuedAtMs, 1);
    const first = q.shift();
    assert.equal(first?.chunk[0], 1);
    assert.equal(first?.enqueuedAtMs, 1);
    assert.equal(q.bytes, 20);
    q.clear();
    assert.equal(q.length, 0);
    assert.equal(q.bytes, 0);
    assert.equal(q.droppedCount, 0);
  });

  it("'disconnect' refuses a push that would exceed maxBytes and keeps what it has", () => {
    const q = new OutboundQueue({ maxBytes: 100, policy: 'disconnect' });
    assert.deepEqual(q.push(bytes(60), 0), { ok: true, droppedCount: 0, droppedBytes: 0 });
    assert.deepEqual(q.push(bytes(40), 0), { ok: true, droppedCount: 0, droppedBytes: 0 });
    assert.deepEqual(q.push(bytes(1), 0), { ok: false, reason: 'overflow' });
    assert.equal(q.bytes, 100);
    assert.equal(q.length, 2);
  });

  it("'drop-oldest' drops just enough of the oldest chunks and reports them", () => {
    const q = new OutboundQueue({ maxBytes: 100, policy: 'drop-oldest' });
    q.push(bytes(30, 1), 1);
    q.push(bytes(30, 2), 2);
    q.push(bytes(30, 3), 3);
    assert.deepEqual(q.push(bytes(50, 4), 4), { ok: true, droppedCount: 2, droppedBytes: 60 });
    assert.equal(q.bytes, 80);
    assert.deepEqual([q.shift()?.chunk[0], q.shift()?.chunk[0]], [3, 4]);
    assert.equal(q.droppedCount, 2);
    assert.equal(q.droppedBytes, 60);
  });

  it("'drop-oldest' keeps a single oversized chunk alone (documented choice)", () => {
    const q = new OutboundQueue({ maxBytes: 100, policy: 'drop-oldest' });
    q.push(bytes(10), 0);
    assert.deepEqual(q.push(bytes(150), 0), { ok: true, droppedCount: 1, droppedBytes: 10 });
    assert.equal(q.length, 1);
    assert.equal(q.bytes, 150);
  });

  it('rejects a non-positive budget', () => {
    assert.throws(() => new OutboundQueue({ maxBytes: 0, policy: 'disconnect' }), RangeError);
  });

  it('matches an array model across growth and wrap-around (fast-check)', () => {
    type Op = { push: number } | { shift: true };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ shift: fc.constant(true as const) }),
    );
    fc.assert(
      fc.property(fc.constantFrom('drop-oldest' as const, 'disconnect' as const), fc.array(op, { maxLength: 300 }), (policy, ops) => {
        const q = new OutboundQueue({ maxBytes: 200, policy });
        const model: Array<{ size: number; t: number }> = [];
        let dropped = 0;
        let t = 0;
        for (const o of ops) {
          if ('push' in o) {
            t++;
            const modelBytes = model.reduce((s, c) => s + c.size, 0);
            const r = q.push(bytes(o.push), t);
            if (modelBytes + o.push <= 200) {
              assert.deepEqual(r, { ok: true, droppedCount: 0, droppedBytes: 0 });
              model.push({ size: o.push, t });
            } else if (policy === 'disconnect') {
              assert.deepEqual(r, { ok: false, reason: 'overflow' });
            } else {
              let n = 0;
              let b = modelBytes;
              while (model.length > 0 && b + o.push > 200) {
                b -= (model.shift() as { size: number }).size;
                n++;
              }
              model.push({ size: o.push, t });
              dropped += n;
              assert.equal(r.ok && r.droppedCount, n);
            }
          } else {
            const got = q.shift();
            const want = model.shift();
            assert.equal(got?.enqueuedAtMs, want?.t);
            assert.equal(got?.chunk.byteLength, want?.size);
          }
          assert.equal(q.length, model.length);
          assert.equal(q.bytes, model.reduce((s, c) => s + c.size, 0));
          assert.equal(q.droppedCount, dropped);
          assert.ok(q.bytes <= 200);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('push and shift stay O(1): 1e6 operations through a long queue in well under a second each way', () => {
    const q = new OutboundQueue({ maxBytes: 1e9, policy: 'disconnect' });
    const chunk = bytes(1);
    const start = performance.now();
    for (let i = 0; i < 500_000; i++) q.push(chunk, i);
    for (let i = 0; i < 500_000; i++) q.shift();
    assert.equal(q.length, 0);
    assert.ok(performance.now() - start < 2000);
  });
});
