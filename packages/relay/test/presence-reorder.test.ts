// PresenceService over a fake link set: batches of one origin that arrive out of order (over
// two paths) are held and applied in order with no full-list request; a batch that never
// comes makes the PoP ask for a full list after the grace period.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMeshDecoder, decodePresence, type PresenceFrame } from '@fastpubsub/wire';
import { PresenceService } from '../src/presence/service.js';
import { sleep, until } from './mesh-helpers.js';

function harness(): { svc: PresenceService; sent: Array<{ peer: string; f: PresenceFrame }> } {
  const svc = new PresenceService({ heartbeatMs: 800 });
  const sent: Array<{ peer: string; f: PresenceFrame }> = [];
  svc.attach({
    id: 'frankfurt',
    send: (peer, frame) => sent.push({ peer, f: decodePresence(createMeshDecoder().push(frame)[0]!) }),
    flood: () => 2,
  });
  return { svc, sent };
}

const delta = (s: number, id: string): PresenceFrame => ({ k: 'd', o: 'tokyo', e: 'E1', s, c: [['t1', 'room', id, 1]] });

test('out-of-order batches of an origin are held and applied in order, no full list asked', () => {
  const { svc, sent } = harness();
  svc.receive('tokyo', { k: 'f', o: 'tokyo', e: 'E1', s: 1, p: 0, l: true, m: [['t1', 'room', 'a']] }, 10);
  svc.receive('virginia', delta(3, 'c'), 10); // relayed, ahead of 2
  svc.receive('virginia', { k: 'h', o: 'tokyo', e: 'E1', s: 3, b: 1 }, 10);
  assert.equal(svc.count('t1', 'room'), 1);
  svc.receive('tokyo', delta(2, 'b'), 10);
  assert.equal(svc.count('t1', 'room'), 3);
  assert.deepEqual(svc.page('t1', 'room', undefined, 10).members.map((m) => m.clientId), ['a', 'b', 'c']);
  assert.equal(svc.table.origin('tokyo')?.seq, 3);
  assert.deepEqual(sent.filter((s) => s.f.k === 'r'), []);
  svc.receive('tokyo', delta(3, 'c'), 10); // the direct copy, late: already applied
  assert.equal(svc.count('t1', 'room'), 3);
});

test('a batch that never comes: a full list is asked for after the grace period', async () => {
  const { svc, sent } = harness();
  svc.start();
  try {
    svc.receive('tokyo', { k: 'f', o: 'tokyo', e: 'E1', s: 1, p: 0, l: true, m: [] }, 10);
    svc.receive('virginia', delta(3, 'c'), 10);
    await sleep(100);
    assert.deepEqual(sent.filter((s) => s.f.k === 'r'), [], 'not at once');
    const r = await until('full-list request', 3000, () => sent.find((s) => s.f.k === 'r'), 20);
    assert.deepEqual(r, { peer: 'virginia', f: { k: 'r', o: 'tokyo' } });
  } finally {
    svc.close();
  }
});
