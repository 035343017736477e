// SDK presence against a real relay: subscribe(..., { presence, onPresence }) joins and
// watches over the WebSocket extension; client.presence() reads the member list over REST;
// unsubscribe leaves; presence is sent again on a new connection (after RECONNECT-driven
// migration the member is still there, once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, isClientError, type PresenceEvent } from '../src/node.js';
import { makeToken, startTestRelay, waitFor } from './helpers.js';

test('join with client data, watch events, read the list, leave on unsubscribe', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl, { tenant: 't1', pub: ['room.#'], sub: ['room.#'] });
  const ann = await connect({ endpoint: r.relay.httpUrl, token, ping: false });
  const bob = await connect({ endpoint: r.relay.httpUrl, token, ping: false });
  t.after(async () => {
    await ann.close();
    await bob.close();
  });
  const events: PresenceEvent[] = [];
  await bob.subscribe('t1', 'room.1', { onPresence: (e) => events.push(e) });
  const annSub = await ann.subscribe('t1', 'room.1', { presence: { clientId: 'ann', clientData: { name: 'Ann' } } });
  await waitFor(() => events.length === 1, 3000, 'join event');
  assert.deepEqual(events[0], { type: 'join', clientId: 'ann', data: { name: 'Ann' }, count: 1 });

  const page = await bob.presence('t1', 'room.1');
  assert.deepEqual(page, { count: 1, members: [{ clientId: 'ann', data: { name: 'Ann' } }], next: null });

  await annSub.unsubscribe();
  await waitFor(() => events.length === 2, 3000, 'leave event');
  assert.equal(events[1]!.type, 'leave');
  assert.equal((await bob.presence('t1', 'room.1')).count, 0);

  await assert.rejects(bob.subscribe('t1', 'room.#', { presence: {} }), (e: unknown) => isClientError(e) && e.code === 'bad_argument');
  await assert.rejects(bob.presence('t1', 'other.x'), (e: unknown) => isClientError(e) && e.code === 'forbidden');
});

test('presence is re-sent on a new connection: after the relay restarts the member is back, once, with the same id', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl, { tenant: 't1', pub: ['room.#'], sub: ['room.#'] });
  const client = await connect({ endpoint: r.relay.httpUrl, token, ping: false });
  t.after(() => client.close());
  await client.subscribe('t1', 'room.2', { presence: { clientData: 'x' } });
  const before = await client.presence('t1', 'room.2');
  assert.equal(before.count, 1);
  const id = before.members[0]!.clientId;
  let reconnected = false;
  client.on('connected', (e) => (reconnected ||= e.migration));
  await r.restart(); // same port and data dir: the token still works, presence starts empty
  await waitFor(() => reconnected, 15_000, 'reconnect');
  let page = await client.presence('t1', 'room.2');
  for (let i = 0; i < 50 && page.count !== 1; i++) {
    await new Promise((res) => setTimeout(res, 50));
    page = await client.presence('t1', 'room.2');
  }
  assert.deepEqual(page, { count: 1, members: [{ clientId: id, data: 'x' }], next: null });
});
