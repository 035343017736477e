// subscribe(t, p, { mode: 'latest' }) against a real relay, over WebSocket and QUIC: the
// subscription's buffer holds the newest message per channel, supersessions are counted in its
// stats, and a plain subscription on the same client still gets every message in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { TestEnv, sleep } from '@fastpubsub/testkit/relay';
import { connect as connectWs, ClientError, type Client, type Subscription, type WebSocketConstructor } from '../src/node.js';
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

test('sdk latest mode: supersessions at the edge of a stalled connection reach stats.superseded', async (t) => {
  const env = new TestEnv();
  t.after(() => env.cleanup());
  const relay = await env.relay({ limits: { socketHighWaterMarkBytes: 16 * 1024, defaultIngressKbPerSec: 0, defaultEgressKbPerSec: 0 } });
  const token = await env.token(relay);
  // The SDK's own socket, captured so the test can stop reading it (a stalled app/network).
  const sockets: WebSocket[] = [];
  class Captured extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  const client = await connectWs({ endpoint: relay.httpUrl, token, webSocketImpl: Captured as unknown as WebSocketConstructor, ping: false });
  t.after(() => client.close());
  const states = await client.subscribe('t1', 'load.#', { mode: 'latest', onMessage: () => undefined });
  const pub = await env.client(relay);
  const raw = (sockets[0] as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  raw.pause();
  const big = Buffer.alloc(32 * 1024, 1);
  for (let i = 0; i < 200; i++) {
    for (const ch of ['load.a', 'load.b']) pub.publish('t1', ch, big); // 13 MB: beyond the kernel's buffers
    if (i % 20 === 0) await pub.ping(5000);
  }
  await pub.ping(5000);
  raw.resume();
  await waitFor(() => states.stats.received > 0, 10_000, 'deliveries after the stall');
  await sleep(500);
  pub.publish('t1', 'load.a', 'after'); // the notice rides ahead of the next delivery
  await waitFor(() => states.stats.superseded > 0, 5000, 'a supersession notice');
  assert.ok(states.stats.received + states.stats.superseded <= 401, JSON.stringify(states.stats));
  assert.ok(states.stats.received < 400, `a backlog was delivered: ${JSON.stringify(states.stats)}`);
});
