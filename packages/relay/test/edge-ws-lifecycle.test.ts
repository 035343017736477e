// Connection lifecycle of the WebSocket edge over real sockets: graceful shutdown (RECONNECT,
// then 1001), revocation (1008), the 'disconnect' slow-consumer policy (4008), and the upgrade
// refusals that are this edge's own (subprotocol, path).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '@fastpubsub/relay';
import {
  Client,
  MASTER_TOKEN,
  connectWs,
  http,
  issueToken,
  metricValue,
  waitFor,
  within,
} from '@fastpubsub/testkit/relay';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function relayWith(extra: Record<string, unknown> = {}): Promise<Relay> {
  const dir = await mkdtemp(join(tmpdir(), 'fps-edge-ws-'));
  const relay = await startRelay({
    listen: { host: '127.0.0.1', port: 0 },
    masterToken: MASTER_TOKEN,
    dataDir: dir,
    logLevel: 'silent',
    ...extra,
  });
  cleanups.push(async () => {
    await relay.close({ graceMs: 0 });
    await rm(dir, { recursive: true, force: true });
  });
  return relay;
}

function track(c: Client): Client {
  cleanups.push(async () => c.ws.terminate());
  return c;
}

function v1Publish(tenant: string, channel: string, payload: Buffer): Buffer {
  const t = Buffer.from(tenant);
  const ch = Buffer.from(channel);
  const out = Buffer.alloc(4 + t.length + ch.length);
  out.writeUInt16BE(t.length, 0);
  t.copy(out, 2);
  out.writeUInt16BE(ch.length, 2 + t.length);
  ch.copy(out, 4 + t.length);
  return Buffer.concat([out, payload]);
}

test('close(): every client gets RECONNECT, is served during the grace period, then gets 1001', async () => {
  const relay = await relayWith();
  const token = await issueToken(relay.httpUrl);
  const a = track(await connectWs(relay.wsUrl, token));
  const b = track(await connectWs(relay.wsUrl, token));
  a.ws.send('SUB:t1:a.#');
  assert.equal(await a.nextText(), 'OK:SUB:t1:a.#');

  const started = Date.now();
  const closing = relay.close({ graceMs: 600 });
  assert.equal(await a.nextText(), 'RECONNECT');
  assert.equal(await b.nextText(), 'RECONNECT');
  // Still served: a publish from b reaches a during the grace period.
  b.ws.send(v1Publish('t1', 'a.b', Buffer.from('late')));
  const frame = await a.nextBinary();
  assert.ok(frame.subarray(-10).includes(Buffer.from('a.#')));
  // No new connections meanwhile.
  await assert.rejects(connectWs(relay.wsUrl, token, { timeoutMs: 1000 }));

  const [ca, cb] = await within(Promise.all([a.closed, b.closed]), 4000, 'relay closes both');
  assert.equal(ca.code, 1001);
  assert.equal(cb.code, 1001);
  await within(closing, 4000, 'close() resolves');
  assert.ok(Date.now() - started >= 550, 'the grace period was honoured');
});

test('close() returns early once every client has left', async () => {
  const relay = await relayWith();
  const a = track(await connectWs(relay.wsUrl, await issueToken(relay.httpUrl)));
  const started = Date.now();
  const closing = relay.close({ graceMs: 10_000 });
  assert.equal(await a.nextText(), 'RECONNECT');
  a.ws.close(1000);
  await within(closing, 3000, 'close() after the last client left');
  assert.ok(Date.now() - started < 3000);
});

test('revoking a token closes its connections with 1008 token_revoked, and only those', async () => {
  const relay = await relayWith();
  const doomed = await issueToken(relay.httpUrl);
  const other = await issueToken(relay.httpUrl);
  const d1 = track(await connectWs(relay.wsUrl, doomed));
  const d2 = track(await connectWs(relay.wsUrl, doomed));
  const o = track(await connectWs(relay.wsUrl, other));
  const r = await http(relay.httpUrl, 'DELETE', '/v1/revoke-token', { body: { token: doomed } });
  assert.equal(r.status, 200, r.text);
  for (const c of [d1, d2]) {
    const info = await within(c.closed, 3000, 'revoked connection closes');
    assert.deepEqual(info, { code: 1008, reason: 'token_revoked' });
  }
  o.ws.send('PING');
  assert.equal(await o.nextText(), 'PONG');
  await assert.rejects(connectWs(relay.wsUrl, doomed), /HTTP 401/);
});

test("slow consumer under the 'disconnect' policy is closed with 4008; others keep receiving", async () => {
  const relay = await relayWith({
    limits: { slowConsumerPolicy: 'disconnect', outboundQueueBytes: 256 * 1024, socketHighWaterMarkBytes: 64 * 1024 },
  });
  const token = await issueToken(relay.httpUrl);
  const fast = track(await connectWs(relay.wsUrl, token));
  const slow = track(await connectWs(relay.wsUrl, token));
  const pub = track(await connectWs(relay.wsUrl, token));
  for (const c of [fast, slow]) {
    c.ws.send('SUB:t1:load.#');
    assert.equal(await c.nextText(), 'OK:SUB:t1:load.#');
  }
  // Stop reading: the kernel buffers fill, then the relay's socket buffer, then its queue.
  const rawSlow = (slow.ws as unknown as { _socket: net.Socket })._socket;
  rawSlow.pause();

  const payload = Buffer.alloc(60_000, 7);
  let received = 0;
  fast.ws.on('message', () => received++);
  const total = 600; // 36 MB: far beyond any loopback socket buffer
  for (let i = 0; i < total; i++) {
    pub.ws.send(v1Publish('t1', 'load.x', payload));
    // Pace by the reading subscriber, so on a loaded machine it never becomes a slow consumer
    // itself; only the paused one may fall behind.
    if (i % 4 === 3) await waitFor(() => received >= i - 4, 10_000, `fast subscriber at ${i}`);
  }
  await waitFor(async () => metricValue(await relay.metricsText(), 'fastpubsub_slow_consumer_disconnects_total') === 1, 10_000, 'slow consumer disconnect counted');
  await waitFor(() => received >= total, 10_000, 'fast subscriber receives everything');
  rawSlow.resume();
  const info = await within(slow.closed, 8000, 'slow consumer sees its close');
  // The close frame queues behind the bytes already in the kernel, so it arrives once the
  // client reads again.
  assert.deepEqual(info, { code: 4008, reason: 'slow_consumer' });
  const text = await relay.metricsText();
  assert.ok((metricValue(text, 'fastpubsub_dropped_messages_total', { reason: 'slow_consumer' }) ?? 0) >= 1);
  await waitFor(async () => metricValue(await relay.metricsText(), 'fastpubsub_connections', { edge: 'ws' }) === 2, 3000, 'the slow connection is gone');
});

test('upgrade refusals: a valid token without llps.v1 gets 400, an unknown path 404', async () => {
  const relay = await relayWith();
  const token = await issueToken(relay.httpUrl);
  await assert.rejects(connectWs(relay.wsUrl, token, { protocols: [`at.${token}`] }), /HTTP 400/);
  await assert.rejects(connectWs(relay.wsUrl, token, { path: '/nope' }), /HTTP 404/);
  const ok = track(await connectWs(relay.wsUrl, token, { path: '/' }));
  assert.equal(ok.ws.protocol, 'llps.v1');
  const text = await relay.metricsText();
  assert.equal(metricValue(text, 'fastpubsub_errors_total', { code: 'bad_request' }), 1);
  assert.equal(metricValue(text, 'fastpubsub_errors_total', { code: 'not_found' }), 1);
});
