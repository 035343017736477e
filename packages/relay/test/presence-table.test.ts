// PresenceTable (pure): folding a client id over connections and PoPs, first-join/last-leave
// events, coalesced deltas, in-order application with gap detection, full lists replacing an
// origin's state, and expiry of a silent origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PresenceTable } from '../src/presence/table.js';

function recorder(t: PresenceTable): string[] {
  const events: string[] = [];
  t.onChange((tenant, channel, kind, m) => events.push(`${kind} ${tenant}/${channel} ${m.clientId}`));
  return events;
}

test('a client id on two connections and at two PoPs is one member; events on first join and last leave', () => {
  const t = new PresenceTable('');
  const ev = recorder(t);
  assert.equal(t.join('t', 'c', 'alice', 'ws1', { n: 1 }), true);
  assert.equal(t.join('t', 'c', 'alice', 'ws2', undefined), false);
  assert.equal(t.count('t', 'c'), 1);
  assert.equal(t.applyFull('tokyo', 'e1', 0, [['t', 'c', 'alice'], ['t', 'c', 'bob']], 0), true);
  assert.equal(t.count('t', 'c'), 2);
  assert.equal(t.leave('t', 'c', 'alice', 'ws1'), false);
  assert.equal(t.leave('t', 'c', 'alice', 'ws2'), true);
  assert.equal(t.count('t', 'c'), 2, 'alice is still present at tokyo');
  t.forget('tokyo');
  assert.equal(t.count('t', 'c'), 0);
  assert.deepEqual(ev, ['join t/c alice', 'join t/c bob', 'leave t/c alice', 'leave t/c bob']);
});

test('deltas are coalesced: join+leave in one batch sends nothing; seq counts batches', () => {
  const t = new PresenceTable('');
  t.join('t', 'c', 'a', 'ws1', undefined);
  t.leave('t', 'c', 'a', 'ws1');
  assert.equal(t.takeDelta(), undefined);
  t.join('t', 'c', 'a', 'ws1', 'd');
  t.join('t', 'c', 'b', 'ws2', undefined);
  const d1 = t.takeDelta();
  assert.deepEqual(d1, { seq: 1, changes: [['t', 'c', 'a', 1, 'd'], ['t', 'c', 'b', 1]] });
  t.leave('t', 'c', 'b', 'ws2');
  assert.deepEqual(t.takeDelta(), { seq: 2, changes: [['t', 'c', 'b', 0]] });
  assert.deepEqual([...t.publishedMembers()], [['t', 'c', 'a', 'd']]);
  for (let i = 0; i < 5; i++) t.join('t', 'x', `m${i}`, 'ws3', undefined);
  assert.equal(t.takeDelta(2)?.changes.length, 2, 'bounded batch');
  assert.equal(t.takeDelta(10)?.changes.length, 3, 'the rest in the next one');
});

test('deltas apply in order; a gap, an unknown origin or a new epoch asks for a full list', () => {
  const t = new PresenceTable('');
  assert.equal(t.applyDelta('tokyo', 'e1', 1, [['t', 'c', 'a', 1]], 0), 'gap', 'unknown origin');
  t.applyFull('tokyo', 'e1', 1, [['t', 'c', 'a']], 0);
  assert.equal(t.applyDelta('tokyo', 'e1', 1, [['t', 'c', 'x', 1]], 0), 'old');
  assert.equal(t.applyDelta('tokyo', 'e1', 3, [['t', 'c', 'y', 1]], 0), 'gap');
  assert.equal(t.applyDelta('tokyo', 'e1', 2, [['t', 'c', 'b', 1], ['t', 'c', 'a', 0]], 0), 'ok');
  assert.deepEqual(t.page('t', 'c', undefined, 10).members, [{ clientId: 'b' }]);
  assert.equal(t.applyDelta('tokyo', 'e2', 3, [], 0), 'gap', 'the origin restarted');
  assert.equal(t.heartbeat('tokyo', 'e1', 2, 1, 0), 'ok');
  assert.equal(t.heartbeat('tokyo', 'e1', 2, 1, 0), 'old');
  assert.equal(t.heartbeat('tokyo', 'e1', 5, 2, 0), 'gap');
  assert.equal(t.applyFull('tokyo', 'e1', 1, [], 0), false, 'an older full list does not replace a newer state');
});

test('a full list replaces what was held (leaves for what is gone); a silent origin expires', () => {
  const t = new PresenceTable('');
  const ev = recorder(t);
  t.applyFull('tokyo', 'e1', 4, [['t', 'c', 'a'], ['t', 'c', 'b']], 1000);
  t.applyFull('tokyo', 'e1', 9, [['t', 'c', 'b'], ['t', 'c', 'c', { x: 1 }]], 1000);
  assert.deepEqual(ev, ['join t/c a', 'join t/c b', 'leave t/c a', 'join t/c c']);
  assert.deepEqual(t.member('t', 'c', 'c'), { clientId: 'c', data: { x: 1 } });
  t.applyFull('paris', 'e9', 0, [['t', 'c', 'z']], 1500);
  t.applyFull('tokyo', 'e1', 10, [['t', 'c', 'b']], 1400, false); // relayed by a neighbour: not a sign of life
  assert.deepEqual(t.expire(1200), ['tokyo']);
  assert.equal(t.count('t', 'c'), 1);
  assert.deepEqual(t.origins(), ['paris']);
});

test('pages are ordered by client id with a cursor', () => {
  const t = new PresenceTable('');
  for (const id of ['d', 'a', 'c', 'b', 'e']) t.join('t', 'c', id, `ws-${id}`, undefined);
  const p1 = t.page('t', 'c', undefined, 2);
  assert.deepEqual(p1, { members: [{ clientId: 'a' }, { clientId: 'b' }], next: 'b' });
  const p2 = t.page('t', 'c', p1.next, 2);
  assert.deepEqual(p2, { members: [{ clientId: 'c' }, { clientId: 'd' }], next: 'd' });
  assert.deepEqual(t.page('t', 'c', p2.next, 2), { members: [{ clientId: 'e' }], next: undefined });
});
