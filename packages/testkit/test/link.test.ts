// LinkDirection without sockets, driven by a FakeClock: exact, deterministic checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, LinkDirection, resolveLinkParams, DEFAULT_LINK } from '../src/index.js';

function run(link: LinkDirection, clock: FakeClock, count: number, gapMs: number, bytes = 100): { id: number; at: number }[] {
  const out: { id: number; at: number }[] = [];
  for (let i = 0; i < count; i++) {
    link.submit(bytes, () => out.push({ id: i, at: clock.now() }));
    clock.advance(gapMs);
  }
  clock.advance(10_000);
  return out;
}

test('delay is applied exactly and order is kept under jitter when reorder is false', () => {
  const clock = new FakeClock();
  const link = new LinkDirection({ delayMs: 50, jitterMs: 40 }, 7, clock);
  const out = run(link, clock, 500, 1);
  assert.equal(out.length, 500);
  for (let i = 0; i < out.length; i++) {
    assert.equal(out[i]!.id, i, 'delivered in order');
    assert.ok(out[i]!.at >= i + 10 - 1e-9, 'never earlier than delay − jitter');
    if (i > 0) assert.ok(out[i]!.at >= out[i - 1]!.at);
  }
  assert.deepEqual(link.stats(), { forwarded: 500, bytes: 50_000, dropped: 0, droppedLoss: 0, droppedQueue: 0, droppedDown: 0, inFlight: 0 });
});

test('reorder: true lets jitter reorder packets', () => {
  const clock = new FakeClock();
  const link = new LinkDirection({ delayMs: 50, jitterMs: 40, reorder: true }, 7, clock);
  const out = run(link, clock, 500, 1);
  assert.equal(out.length, 500);
  const inversions = out.filter((p, i) => i > 0 && p.id < out[i - 1]!.id).length;
  assert.ok(inversions > 10, `expected reordering, got ${inversions} inversions`);
});

test('normal jitter: mean ≈ delay, spread ≈ jitterMs', () => {
  const clock = new FakeClock();
  const link = new LinkDirection({ delayMs: 100, jitterMs: 10, jitter: 'normal', reorder: true }, 3, clock);
  const delays: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const sent = clock.now();
    link.submit(10, () => delays.push(clock.now() - sent));
    clock.advance(0.01);
  }
  clock.advance(1000);
  const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
  const sd = Math.sqrt(delays.reduce((a, b) => a + (b - mean) ** 2, 0) / delays.length);
  assert.ok(Math.abs(mean - 100) < 1.5, `mean ${mean}`);
  assert.ok(sd > 8 && sd < 12, `sd ${sd}`);
});

test('loss is reproducible from the seed and close to the configured rate', () => {
  const outcome = (seed: number): boolean[] => {
    const link = new LinkDirection({ lossRate: 0.2 }, seed, new FakeClock());
    return Array.from({ length: 5000 }, () => link.submit(10, () => {}));
  };
  const a = outcome(42);
  assert.deepEqual(outcome(42), a);
  assert.notDeepEqual(outcome(43), a);
  const lost = a.filter((ok) => !ok).length / a.length;
  assert.ok(lost > 0.17 && lost < 0.23, `loss ${lost}`);
});

test('rate limit serialises packets and tail-drops beyond the queue', () => {
  const clock = new FakeClock();
  // 100 kB/s: a 1000-byte packet takes 10 ms; 5000 bytes may be waiting (including the one
  // being serialised), so a burst of 10 gets 5 through.
  const link = new LinkDirection({ rateBytesPerSec: 100_000, queueBytes: 5000 }, 1, clock);
  const at: number[] = [];
  const accepted = Array.from({ length: 10 }, () => link.submit(1000, () => at.push(clock.now())));
  clock.advance(1000);
  assert.deepEqual(accepted, [true, true, true, true, true, false, false, false, false, false]);
  assert.deepEqual(at, [10, 20, 30, 40, 50]);
  assert.equal(link.stats().droppedQueue, 5);
});

test('down drops new packets and those in flight; runtime changes apply to new packets', () => {
  const clock = new FakeClock();
  const link = new LinkDirection({ delayMs: 100 }, 1, clock);
  let delivered = 0;
  link.submit(10, () => delivered++);
  link.submit(10, () => delivered++);
  clock.advance(50);
  link.set({ down: true });
  assert.equal(link.submit(10, () => delivered++), false);
  clock.advance(500);
  assert.equal(delivered, 0);
  assert.equal(link.stats().droppedDown, 3);
  link.set({ down: false, delayMs: 20 });
  const sent = clock.now();
  let arrived = -1;
  link.submit(10, () => { arrived = clock.now(); });
  clock.advance(100);
  assert.equal(arrived - sent, 20);
});

test('parameters are validated', () => {
  assert.throws(() => resolveLinkParams(DEFAULT_LINK, { lossRate: 1.5 }), /lossRate/);
  assert.throws(() => resolveLinkParams(DEFAULT_LINK, { delayMs: -1 }), /delayMs/);
  assert.throws(() => resolveLinkParams(DEFAULT_LINK, { delayMs: Number.NaN }), /delayMs/);
  assert.throws(() => resolveLinkParams(DEFAULT_LINK, { typo: 1 } as never), /unknown parameter 'typo'/);
});
