// The pure parts of bench:latest: state encoding, the age tracker, percentiles and the goal lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgeTracker, STATE_BYTES, decodeState, encodeState, goalChecks, percentile, type LatestRow } from './age.js';
import { parseLatestArgs, LatestUsageError } from './options.js';

test('a state is 200 B carrying its publish time and sequence number', () => {
  const b = encodeState(1234.5, 77);
  assert.equal(b.byteLength, STATE_BYTES);
  assert.deepEqual(decodeState(b), { sentAtMs: 1234.5, seq: 77 });
  assert.equal(decodeState(new Uint8Array(4)), undefined);
});

test('the tracker keeps the newest state per channel, ignores older ones and samples ages', () => {
  const t = new AgeTracker();
  t.recording = true;
  t.arrive('a', encodeState(100, 2), 101);
  t.arrive('a', encodeState(90, 1), 102); // reordered: older than the one held
  t.sample(['a', 'b'], 110); // b never heard of: skipped
  assert.deepEqual(t.sampled, [10]);
  assert.deepEqual(t.onArrival, [1]);
  assert.equal(t.stale, 1);
  assert.equal(t.received, 2);
  t.reset();
  assert.deepEqual([t.sampled.length, t.onArrival.length, t.received, t.stale], [0, 0, 0, 0]);
});

test('nearest-rank percentiles and the goal check', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 0.5), 50);
  assert.equal(percentile(v, 0.99), 99);
  assert.ok(Number.isNaN(percentile([], 0.5)));
  const row = (label: string, ageP99: number): LatestRow => ({ lossPct: 5, label, ageP50: 1, ageP99, arrivalP50: 1, arrivalP99: 1, received: 1, published: 1, superseded: 0 });
  assert.match(goalChecks([row('l', 10), row('q', 20), row('w', 200)], 'l', 'q', 'w')[0]!, /: met$/);
  assert.match(goalChecks([row('l', 11), row('q', 20), row('w', 200)], 'l', 'q', 'w')[0]!, /not met$/);
});

test('flags: defaults, and bad values are usage errors', () => {
  const o = parseLatestArgs([], 'out.md');
  assert.deepEqual([o.loss, o.durationMs, o.channels, o.hz], [[0, 5, 10], 20_000, 8, 60]);
  assert.throws(() => parseLatestArgs(['--loss', '5,x'], 'o'), LatestUsageError);
  assert.throws(() => parseLatestArgs(['--hz', '0'], 'o'), LatestUsageError);
  assert.throws(() => parseLatestArgs(['--bogus'], 'o'), LatestUsageError);
});
