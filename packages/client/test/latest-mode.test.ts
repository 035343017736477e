// subscribe(t, p, { mode: 'latest' }) against a real relay, over WebSocket and QUIC: the
// subscription's buffer holds the newest message per channel, supersessions are counted in its
// stats, and a plain subscription on the same client still gets every message in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as connectWs, ClientError, type Client, type Subscription } from '../src/node.js';
import { connect as connectQuic } from '../src/quic.js';
import { makeToken, startTestRelay, waitFor } from './helpers.js';

async function checkLatest(client: Client): Promise<void> {
  const states = await client.subscribe('t1', 'pos.#', { mode: 'latest' });
  const all = await client.subscribe('t1', 'log.#');
  for (let i = 1; i <= 5; i++) {
    for (const ch of ['pos.a', 'pos.b']) client.publish('t1', ch, `${ch}:${i}`);
    client.publish('t1', 'log.x', `log:${i}`);
  }
  await waitFor(() => states.stats.received === 10 && all.stats.received === 5, 5000, 'every delivery');
  assert.equal(states.stats.superseded, 8, 'four older states of each channel were replaced in the buffer');
  assert.equal(states.stats.buffered, 2);
  assert.deepEqual(await take(states, 2), ['pos.a:5', 'pos.b:5']);
  assert.deepEqual(await take(all, 5), ['log:1', 'log:2', 'log:3', 'log:4', 'log:5']);
  assert.equal(all.stats.superseded, 0);
}

async function take(sub: Subscription, n: number): Promise<string[]> {
  const it = sub[Symbol.asyncIterator]();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    assert.equal(r.done, false);
    out.push(Buffer.from(r.value.payload).toString());
  }
  return out;
}

test('sdk latest mode over WebSocket: newest per channel, superseded counted, plain subscription untouched', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await connectWs({ endpoint: r.relay.httpUrl, token });
  t.after(() => client.close());
  await checkLatest(client);
  await assert.rejects(client.subscribe('t1', 'x.#', { mode: 'newest' as 'latest' }), (e: unknown) => e instanceof ClientError && e.code === 'bad_argument');
});

test('sdk latest mode over QUIC (LATEST flag, datagrams): the same behaviour', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await connectQuic({ endpoint: r.relay.httpUrl, token, quic: { port: r.relay.quicPort!, caPem: r.relay.quicCaPem! } });
  t.after(() => client.close());
  await checkLatest(client);
});
