// smallestAfter (presence pages without a full sort) against a plain sort, on random ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smallestAfter } from '../src/presence/smallest.js';

function reference(ids: string[], after: string | undefined, limit: number): { ids: string[]; more: boolean } {
  const above = ids.filter((id) => after === undefined || id > after).sort();
  return { ids: above.slice(0, limit), more: above.length > limit };
}

test('smallestAfter equals sort-filter-slice on random ids, cursors and limits', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const n = rnd(300);
    const ids = [...new Set(Array.from({ length: n }, () => `u${rnd(10_000)}`))];
    const after = rnd(3) === 0 ? undefined : `u${rnd(10_000)}`;
    const limit = 1 + rnd(50);
    assert.deepEqual(smallestAfter(ids, after, limit), reference(ids, after, limit), `round ${round}`);
  }
});

test('paging a 100,000-id set with the cursor visits every id once, in order, quickly', () => {
  const ids = Array.from({ length: 100_000 }, (_, i) => `m${(i * 7919) % 100_000}`);
  const seen: string[] = [];
  let after: string | undefined;
  const t0 = performance.now();
  for (let pages = 0; pages < 200; pages++) {
    const p = smallestAfter(ids, after, 1000);
    seen.push(...p.ids);
    if (!p.more) break;
    after = p.ids[p.ids.length - 1];
  }
  const ms = performance.now() - t0;
  assert.equal(seen.length, 100_000);
  assert.deepEqual(seen, [...ids].sort());
  assert.ok(ms < 20_000, `${ms.toFixed(0)} ms for 100 pages`);
});
