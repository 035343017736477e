import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../src/index.js';

test('FakeClock runs timers in time order, with now() at their due time', () => {
  const clock = new FakeClock(1000);
  const seen: string[] = [];
  clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => seen.push(`c@${clock.now()}`), 20); // same time: scheduling order
  assert.equal(clock.now(), 1000);
  clock.advance(15);
  assert.deepEqual(seen, ['a@1010']);
  assert.equal(clock.now(), 1015);
  clock.advance(100);
  assert.deepEqual(seen, ['a@1010', 'b@1020', 'c@1020']);
  assert.equal(clock.now(), 1115);
  assert.equal(clock.pending, 0);
});

test('FakeClock: clearTimeout, timers scheduled from callbacks, intervals', () => {
  const clock = new FakeClock();
  const seen: number[] = [];
  const h = clock.setTimeout(() => seen.push(-1), 5);
  clock.clearTimeout(h);
  clock.setTimeout(() => {
    seen.push(clock.now());
    clock.setTimeout(() => seen.push(clock.now()), 3); // falls due within the same advance
  }, 2);
  const iv = clock.setInterval(() => seen.push(100 + clock.now()), 4);
  clock.advance(10);
  assert.deepEqual(seen, [2, 104, 5, 108]);
  clock.clearInterval(iv);
  clock.advance(10);
  assert.deepEqual(seen, [2, 104, 5, 108]);
  assert.throws(() => clock.advance(-1), RangeError);
});

test('FakeClock.runAll drains one-shot timers', () => {
  const clock = new FakeClock();
  let n = 0;
  const tick = (): void => {
    n++;
    if (n < 5) clock.setTimeout(tick, 1000);
  };
  clock.setTimeout(tick, 1000);
  clock.runAll();
  assert.equal(n, 5);
  assert.equal(clock.now(), 5000);
});
