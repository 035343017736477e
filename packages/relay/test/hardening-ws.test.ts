// Memory and liveness bounds of the WebSocket edge over real sockets: an oversized publish is
// refused with a visible ERR before the 1009 close, an unfinished fragmented message is cut at
// its deadline, a peer that never answers pings is cut, and a healthy client is unaffected.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodePublishV1 } from '@fastpubsub/testkit/relay';
import { TestEnv, sleep } from '@fastpubsub/testkit/relay';
import { RawFrameReader, clientFrame, rawUpgrade } from './conformance/rawws.js';

const env = new TestEnv();
afterEach(() => env.cleanup());

/** A masked client frame with an explicit FIN bit (fragmentation, RFC 6455 §5.4). */
export function fragment(opcode: number, fin: boolean, payload: Buffer): Buffer {
  const f = clientFrame(opcode, payload);
  if (!fin) f[0] = (f[0] ?? 0) & 0x7f;
  return f;
}

async function upgraded(relay: { port: number }, token: string): Promise<{ socket: import('node:net').Socket; reader: RawFrameReader }> {
  const r = await rawUpgrade('127.0.0.1', relay.port, { path: '/ws', protocol: `llps.v1,at.${token}` });
  assert.equal(r.status, 101);
  env.trackSocket(r.socket);
  return { socket: r.socket, reader: new RawFrameReader(r.socket, r.leftover) };
}

test('a publish over the WebSocket message limit gets ERR:payload_too_large before the 1009 close', async () => {
  const relay = await env.relay({ quic: { enabled: false } });
  const token = await env.token(relay);
  const { socket, reader } = await upgraded(relay, token);
  socket.write(clientFrame(0x2, encodePublishV1('t1', 'a.big', Buffer.alloc(100_000, 7))));
  const err = await reader.next(2000);
  assert.equal(err.opcode, 0x1, 'a text frame first');
  assert.match(err.payload.toString('utf8'), /^ERR:payload_too_large/);
  const close = await reader.next(2000);
  assert.equal(close.opcode, 0x8);
  assert.equal(close.payload.readUInt16BE(0), 1009);
});

test('a payload over the limit but inside the largest valid frame gets ERR and the connection stays', async () => {
  const relay = await env.relay({ quic: { enabled: false } });
  const c = await env.client(relay);
  c.sendBinary(encodePublishV1('t1', 'a.big', Buffer.alloc(65_536 + 100, 1)));
  assert.match(await c.nextText(2000), /^ERR:payload_too_large/);
  c.sendText('PING');
  assert.equal(await c.nextText(2000), 'PONG');
});

test('a fragmented message that is never finished is cut at wsMessageTimeoutMs; a busy publisher is not', async () => {
  const relay = await env.relay({ quic: { enabled: false }, limits: { wsMessageTimeoutMs: 400, wsPingIntervalMs: 0 } });
  const token = await env.token(relay);
  const { socket, reader } = await upgraded(relay, token);
  socket.write(fragment(0x2, false, randomBytes(64)));
  for (let i = 0; i < 5; i++) socket.write(fragment(0x0, false, randomBytes(64)));
  // A healthy client keeps publishing small whole messages meanwhile, for longer than the timeout.
  const healthy = await env.client(relay);
  const started = Date.now();
  for (let i = 0; i < 12; i++) {
    healthy.sendText('PING');
    assert.equal(await healthy.nextText(2000), 'PONG');
    await sleep(80);
  }
  const close = await reader.next(3000);
  assert.equal(close.opcode, 0x8);
  assert.equal(close.payload.readUInt16BE(0), 1008);
  assert.equal(close.payload.subarray(2).toString('utf8'), 'message_timeout');
  assert.ok(Date.now() - started < 3000);
  healthy.sendText('PING');
  assert.equal(await healthy.nextText(2000), 'PONG');
});

test('a peer that never answers pings is cut within ping interval + pong timeout', async () => {
  const relay = await env.relay({ quic: { enabled: false }, limits: { wsPingIntervalMs: 300, wsPongTimeoutMs: 300 } });
  const token = await env.token(relay);
  const { reader } = await upgraded(relay, token); // a raw socket: reads, never answers a ping
  const started = Date.now();
  const ping = await reader.next(2000);
  assert.equal(ping.opcode, 0x9, 'the relay pings a silent peer');
  const healthy = await env.client(relay); // the ws library answers pings by itself
  await assert.rejects(reader.next(3000), /closed/);
  const took = Date.now() - started;
  assert.ok(took < 2000, `cut after ${took} ms`);
  await sleep(700);
  healthy.sendText('PING');
  assert.equal(await healthy.nextText(2000), 'PONG', 'a peer that answers pings is kept');
});

test('the guard walks its connections in slices and still reaches every one: 40 silent peers are all cut in time', async () => {
  // wsPingIntervalMs 2000 gives a 500 ms guard period walked in 10 slices of 4 connections.
  const relay = await env.relay({ quic: { enabled: false }, limits: { wsPingIntervalMs: 2000, wsPongTimeoutMs: 2000, wsMessageTimeoutMs: 10_000 } });
  const token = await env.token(relay);
  const peers = [];
  for (let i = 0; i < 40; i++) peers.push(await upgraded(relay, token));
  const healthy = await env.client(relay);
  const started = Date.now();
  const cutAt = await Promise.all(
    peers.map(async ({ reader }) => {
      const ping = await reader.next(6000);
      assert.equal(ping.opcode, 0x9, 'every silent peer is pinged');
      await assert.rejects(reader.next(8000), /closed/);
      return Date.now() - started;
    }),
  );
  // Bound: ping interval + pong timeout + one guard period (500 ms) + scheduling slack.
  assert.ok(Math.max(...cutAt) < 7000, `last cut after ${Math.max(...cutAt)} ms`);
  healthy.sendText('PING');
  assert.equal(await healthy.nextText(2000), 'PONG', 'a peer that answers pings is kept');
});
