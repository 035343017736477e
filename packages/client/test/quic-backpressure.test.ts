// QuicEdgeClient.publish honours the binding's write() backpressure: against a fake relay that
// answers AUTH and then stops reading the control stream, publish() returns false past the
// high-water mark, a publish past maxBufferedBytes throws ClientError('queue_full') and queues
// nothing, drained() waits until the relay reads again, and every accepted PUB arrives in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuicEndpoint, generateTestPki, type QuicStream } from '@fastpubsub/quic';
import { FrameDecoder, FrameType, decodePub, encodeOk } from '@fastpubsub/wire';
import { QuicEdgeClient, QUIC_ALPN } from '../src/transports/quic-client.js';
import { ClientError } from '../src/errors.js';

const PAYLOAD = 16 * 1024;

async function fakeRelay(): Promise<{ server: QuicEndpoint; port: number; caPem: string; control: Promise<QuicStream>; received: number[] }> {
  const pki = generateTestPki();
  const server = new QuicEndpoint({ host: '127.0.0.1', server: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, alpn: [QUIC_ALPN] } });
  const received: number[] = [];
  const control = new Promise<QuicStream>((resolve) => {
    server.on('connection', (conn) => {
      conn.on('stream', (st) => {
        const dec = new FrameDecoder();
        let authed = false;
        st.on('data', (chunk) => {
          dec.feed(chunk, (f) => {
            if (!authed) {
              authed = true;
              st.write(encodeOk({ id: 0, topic: '' }));
              st.pause(); // the relay stops reading: QUIC flow control pushes back on the client
              resolve(st);
              return;
            }
            if (f.type === FrameType.PUB) received.push(decodePub(f).data[0] ?? -1);
          });
        });
      });
    });
  });
  return { server, port: server.address.port, caPem: pki.caCertPem, control, received };
}

test('quic client: publish() honours backpressure (false at the high-water mark, queue_full at the bound, drained())', async () => {
  const relay = await fakeRelay();
  const client = await QuicEdgeClient.connect({
    host: '127.0.0.1', port: relay.port, serverName: 'localhost', caPem: relay.caPem, token: 't',
    publishHighWaterMark: 256 * 1024, maxBufferedBytes: 1024 * 1024,
  });
  try {
    const control = await relay.control;
    const data = new Uint8Array(PAYLOAD);
    let accepted = 0;
    let sawFalse = false;
    let full: unknown;
    // Publish far more than the path can take while the relay does not read, yielding to the
    // event loop between bursts so the binding's write() and flow control can push back.
    for (let burst = 0; burst < 200 && full === undefined; burst++) {
      for (let i = 0; i < 8; i++) {
        data[0] = accepted % 251;
        try {
          if (!client.publish('t', 'c', data)) sawFalse = true;
          accepted++;
        } catch (err) {
          full = err;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(sawFalse, 'publish() returned false once past the high-water mark');
    assert.ok(full instanceof ClientError && full.code === 'queue_full', `a publish past maxBufferedBytes throws queue_full (got ${String(full)})`);
    assert.ok(client.bufferedAmount <= 1024 * 1024, `bufferedAmount ${client.bufferedAmount} stays within the bound`);
    let drained = false;
    const waiting = client.drained().then(() => { drained = true; });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(drained, false, 'drained() waits while the relay does not read');
    control.resume();
    await waiting;
    assert.ok(client.bufferedAmount < 256 * 1024);
    const deadline = Date.now() + 10_000;
    while (relay.received.length < accepted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(relay.received.length, accepted, 'every accepted PUB arrives');
    relay.received.forEach((v, i) => assert.equal(v, i % 251, `PUB ${i} in order`));
  } finally {
    await client.closed();
    await relay.server.close();
  }
});

test('quic client: drained() rejects when the connection closes; bad bounds are refused', async () => {
  const relay = await fakeRelay();
  await assert.rejects(
    QuicEdgeClient.connect({ host: '127.0.0.1', port: relay.port, serverName: 'localhost', caPem: relay.caPem, token: 't', publishHighWaterMark: 1024, maxBufferedBytes: 512 }),
    (e: unknown) => e instanceof ClientError && e.code === 'bad_argument',
  );
  const client = await QuicEdgeClient.connect({ host: '127.0.0.1', port: relay.port, serverName: 'localhost', caPem: relay.caPem, token: 't', publishHighWaterMark: 64 * 1024, maxBufferedBytes: 1024 * 1024 });
  try {
    await relay.control;
    const data = new Uint8Array(PAYLOAD);
    for (let i = 0; i < 40; i++) client.publish('t', 'c', data);
    const waiting = client.drained();
    for (const c of relay.server.connections.values()) c.close(0, 'bye');
    await assert.rejects(waiting, (e: unknown) => e instanceof ClientError);
  } finally {
    await client.closed();
    await relay.server.close();
  }
});
