// The SDK with refused subscriptions: the edge answers a refused SUB with ERR naming it and
// then an inert OK:SUB (contract §11.8). subscribe() rejects with the wire code, the inert OK
// confirms nothing, and reconnects (relay restart) complete with the granted subscription.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, ClientError, type Message } from '../src/node.js';
import { makeToken, startTestRelay, waitFor } from './helpers.js';

test('a refused subscribe rejects with its code, and the client still reconnects and keeps its granted subscription', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl, { sub: ['ok.#'], pub: ['ok.#'] });
  const client = await connect({ endpoint: r.relay.httpUrl, token, reconnect: { baseDelayMs: 50, maxDelayMs: 200 } });
  t.after(() => client.close());
  const got: Message[] = [];
  await client.subscribe('t1', 'ok.#', { onMessage: (m) => got.push(m) });
  await assert.rejects(client.subscribe('t1', 'x.#'), (e: unknown) => e instanceof ClientError && e.serverCode === 'permission_denied');
  await assert.rejects(client.subscribe('t1', 'x.y'), (e: unknown) => e instanceof ClientError && e.serverCode === 'permission_denied');

  await r.restart();
  await waitFor(() => client.stats.reconnects >= 1 && client.state === 'connected', 10_000, 'reconnected');
  client.publish('t1', 'ok.after', 'after restart');
  await waitFor(() => got.some((m) => new TextDecoder().decode(m.payload) === 'after restart'), 5000, 'delivery after the restart');
});
