import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as w from '@fastpubsub/wire';

test('MESHREADY request and answers round-trip; other text is not MESHREADY', () => {
  assert.equal(w.formatMeshReadyRequest('t1', 'a.#'), 'MESHREADY:t1:a.#');
  assert.deepEqual(w.parseMeshReady('MESHREADY:t1:a.#'), { tenant: 't1', pattern: 'a.#', complete: true });
  assert.equal(w.formatMeshReady('t1', 'a.#', false), 'MESHREADY:t1:a.#:timeout');
  assert.deepEqual(w.parseMeshReady('MESHREADY:t1:a.#:timeout'), { tenant: 't1', pattern: 'a.#', complete: false });
  // A pattern named "timeout" is a pattern, not the suffix.
  assert.deepEqual(w.parseMeshReady('MESHREADY:t1:timeout'), { tenant: 't1', pattern: 'timeout', complete: true });
  for (const t of ['OK:SUB:t1:a', 'MESHREADY:', 'MESHREADY:t1', 'MESHREADY::a', 'MESHREADY:t1:']) assert.equal(w.parseMeshReady(t), undefined, t);
});

test('INTEREST_ACK round-trips through the mesh decoder and rejects bad fields', () => {
  const bytes = w.encodeInterestAck({ origin: 'frankfurt', seq: 1765000000123, from: 'tokyo', ttl: 8 });
  const [frame] = w.createMeshDecoder().push(bytes);
  assert.ok(frame !== undefined);
  assert.equal(frame.type, w.MeshFrameType.INTEREST_ACK);
  assert.deepEqual(w.decodeInterestAck(frame), { origin: 'frankfurt', seq: 1765000000123, from: 'tokyo', ttl: 8 });
  assert.throws(() => w.encodeInterestAck({ origin: 'a b', seq: 1, from: 'x', ttl: 1 }), (e: unknown) => e instanceof w.WireError);
  assert.throws(() => w.encodeInterestAck({ origin: 'a', seq: -1, from: 'x', ttl: 1 }), (e: unknown) => e instanceof w.WireError);
  assert.throws(() => w.encodeInterestAck({ origin: 'a', seq: 1, from: 'x', ttl: 256 }), (e: unknown) => e instanceof w.WireError);
});
