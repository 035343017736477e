// Latest mode over real sockets: a stalled latest subscriber gets the newest message of every
// channel once it reads again, not a backlog; supersessions are counted under their own reason
// (not slow_consumer); QUIC sends what fits as datagrams; WebSocket `SUB …:L` coalesces in the
// relay's queue while a plain subscriber on the same relay still gets every message.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { QuicEdgeClient } from '@fastpubsub/client/quic';
import { decodeDelivery } from '@fastpubsub/wire';
import { TestEnv, metricValue, scrapeMetrics, sleep, waitFor } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
after(() => env.cleanup());

const CHANNELS = ['load.p0', 'load.p1', 'load.p2'];

function payload(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, 7);
  b.writeUInt32BE(seq, 0);
  return b;
}
const seqOf = (data: Uint8Array): number => Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32BE(0);

async function dropped(relay: Parameters<typeof scrapeMetrics>[0], reason: string): Promise<number> {
  return metricValue(await scrapeMetrics(relay), 'fastpubsub_dropped_messages_total', { reason }) ?? 0;
}

test('quic: a stalled latest subscription gets the newest message per channel, not a backlog', async () => {
  const relay = await env.relay({ quic: { streamQueueBytes: 4 * 1024 * 1024 } });
  const token = await env.token(relay);
  const opts = { host: '127.0.0.1', port: relay.quicPort as number, token, caPem: relay.quicCaPem as string };
  const subConn = await QuicEdgeClient.connect(opts);
  const pub = await QuicEdgeClient.connect(opts);
  try {
    const sub = subConn.subscribe('t1', 'load.#', { latest: true });
    const last = new Map<string, number>();
    let received = 0;
    let viaDatagram = 0;
    let told = 0;
    sub.onSuperseded = (n) => (told += n);
    sub.onMessage = (m) => {
      received++;
      if (m.datagram) viaDatagram++;
      last.set(m.channel, seqOf(m.data));
    };
    await sub.ready;
    await waitFor(() => sub.stream !== undefined, 2000, 'subscription stream');
    sub.pause();
    const N = 400;
    // 8 KiB: far above a datagram, so everything takes the stream; 3 × 400 × 8 KiB = 9.6 MB,
    // beyond the stream's flow-control window, so the relay's queue must hold the rest.
    for (let seq = 1; seq <= N; seq++) {
      for (const ch of CHANNELS) pub.publish('t1', ch, payload(seq, 8 * 1024));
      if (seq % 20 === 0) await pub.drained();
    }
    await waitFor(async () => (await dropped(relay, 'superseded')) > 0, 5000, 'supersessions while stalled');
    sub.resume();
    await waitFor(() => CHANNELS.every((ch) => last.get(ch) === N), 10_000, `newest of every channel: ${JSON.stringify([...last])}`);
    await sleep(100);
    assert.ok(received < CHANNELS.length * N, `received ${received} of ${CHANNELS.length * N}: a backlog was delivered`);
    assert.equal(viaDatagram, 0, 'messages larger than a datagram take the stream');
    const superseded = await dropped(relay, 'superseded');
    assert.ok(superseded > 0, `superseded counted: ${superseded}`);
    assert.equal(await dropped(relay, 'slow_consumer'), 0, 'supersession is not a slow-consumer drop');
    // received + superseded covers everything published (nothing lost otherwise).
    assert.equal(received + superseded, CHANNELS.length * N);
    assert.equal(told, superseded, 'the subscriber was told every supersession on its stream');
  } finally {
    subConn.close();
    pub.close();
  }
});

test('quic: latest subscriptions get messages that fit as datagrams; plain ones on the stream', async () => {
  const relay = await env.relay();
  const token = await env.token(relay);
  const opts = { host: '127.0.0.1', port: relay.quicPort as number, token, caPem: relay.quicCaPem as string };
  const subConn = await QuicEdgeClient.connect(opts);
  const pub = await QuicEdgeClient.connect(opts);
  try {
    const latest = subConn.subscribe('t1', 'x.#', { latest: true });
    const plain = subConn.subscribe('t1', 'x.pos', {});
    const got = { latest: [] as boolean[], plain: [] as boolean[] };
    latest.onMessage = (m) => got.latest.push(m.datagram);
    plain.onMessage = (m) => got.plain.push(m.datagram);
    await Promise.all([latest.ready, plain.ready]);
    for (let i = 1; i <= 30; i++) {
      pub.publish('t1', 'x.pos', payload(i, 200));
      await sleep(2);
    }
    await waitFor(() => got.plain.length === 30 && got.latest.length >= 20, 5000, `deliveries: ${got.latest.length}/${got.plain.length}`);
    assert.ok(got.latest.every((d) => d), 'every latest delivery came as a datagram');
    assert.ok(got.plain.every((d) => !d), 'every plain delivery came on the stream');
  } finally {
    subConn.close();
    pub.close();
  }
});

test('ws: SUB …:L coalesces a stalled connection\'s queue; a plain subscriber still gets everything', async () => {
  const relay = await env.relay({ limits: { socketHighWaterMarkBytes: 16 * 1024, outboundQueueBytes: 16 * 1024 * 1024, defaultIngressKbPerSec: 0, defaultEgressKbPerSec: 0 } });
  const stalled = await env.client(relay);
  const plain = await env.client(relay);
  const pub = await env.client(relay);
  stalled.sendText('SUB:t1:load.#:L');
  assert.equal(await stalled.nextText(), 'OK:SUB:t1:load.#', 'the OK carries no suffix');
  await plain.sub('t1', 'load.#');
  const socket = (stalled.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  const N = 300;
  const plainLast = new Map<string, number>();
  let plainCount = 0;
  for (let seq = 1; seq <= N; seq++) {
    for (const ch of CHANNELS) pub.publish('t1', ch, payload(seq, 32 * 1024)); // 28 MB in all
    if (seq % 10 === 0) {
      await pub.ping(5000);
      while (plain.pending > 0) {
        const d = decodeDelivery(await plain.nextBinary());
        plainCount++;
        plainLast.set(d.channel, seqOf(d.payload));
      }
    }
  }
  await waitFor(async () => (await dropped(relay, 'superseded')) > 0, 5000, 'supersessions while stalled');
  socket.resume();
  const last = new Map<string, number>();
  let received = 0;
  for (let i = 0; i < CHANNELS.length * N && !CHANNELS.every((ch) => last.get(ch) === N); i++) {
    const d = decodeDelivery(await stalled.nextBinary(10_000));
    received++;
    last.set(d.channel, seqOf(d.payload));
  }
  assert.deepEqual([...last.values()], [N, N, N], 'the newest message of every channel arrived');
  assert.ok(received < CHANNELS.length * N, `received ${received} of ${CHANNELS.length * N}: a backlog was delivered`);
  while (plainCount < CHANNELS.length * N) {
    const d = decodeDelivery(await plain.nextBinary(5000));
    plainCount++;
    plainLast.set(d.channel, seqOf(d.payload));
  }
  assert.deepEqual([...plainLast.values()], [N, N, N]);
  assert.equal(await dropped(relay, 'slow_consumer'), 0);
  const superseded = await dropped(relay, 'superseded');
  assert.ok(superseded > 0);
  // The count is told ahead of the next delivery once the queue has drained; only to `:L` subscribers.
  pub.publish('t1', 'load.p0', payload(N + 1, 10));
  assert.equal(await stalled.nextText(5000), `SUPERSEDED:t1:load.#:${superseded}`);
  assert.equal(seqOf(decodeDelivery(await stalled.nextBinary(5000)).payload), N + 1);
  assert.equal(seqOf(decodeDelivery(await plain.nextBinary(5000)).payload), N + 1, 'the plain subscriber gets no notice line');
});
