// Bytes from the relay that do not decode are reported (ClientError 'protocol'), not swallowed:
// against a fake relay over real QUIC, a garbage datagram is dropped and reported, garbage on
// the control stream is reported and closes the connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuicEndpoint, generateTestPki, type QuicConnection, type QuicStream } from '@fastpubsub/quic';
import { FrameDecoder, encodeOk } from '@fastpubsub/wire';
import { QuicEdgeClient, QUIC_ALPN } from '../src/transports/quic-client.js';
import type { ClientError } from '../src/errors.js';

async function fakeRelay(): Promise<{ server: QuicEndpoint; port: number; caPem: string; authed: Promise<{ conn: QuicConnection; control: QuicStream }> }> {
  const pki = generateTestPki();
  const server = new QuicEndpoint({ host: '127.0.0.1', server: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, alpn: [QUIC_ALPN] } });
  const authed = new Promise<{ conn: QuicConnection; control: QuicStream }>((resolve) => {
    server.on('connection', (conn) => {
      conn.on('stream', (control) => {
        const dec = new FrameDecoder();
        let done = false;
        control.on('data', (chunk) => {
          dec.feed(chunk, () => {
            if (done) return;
            done = true;
            control.write(encodeOk({ id: 0, topic: '' }));
            resolve({ conn, control });
          });
        });
      });
    });
  });
  return { server, port: server.address.port, caPem: pki.caCertPem, authed };
}

function nextError(errors: ClientError[], n: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (errors.length >= n) return resolve();
      if (Date.now() > deadline) return reject(new Error(`no protocol error #${n} within ${ms} ms`));
      setTimeout(poll, 5);
    };
    poll();
  });
}

test('quic client: undecodable datagrams and control frames are reported as protocol errors', async () => {
  const relay = await fakeRelay();
  const errors: ClientError[] = [];
  const closed: Array<{ code: number | undefined; reason: string }> = [];
  const client = await QuicEdgeClient.connect({
    host: '127.0.0.1', port: relay.port, serverName: 'localhost', caPem: relay.caPem, token: 't',
    onProtocolError: (e) => errors.push(e),
    onClose: (info) => closed.push(info),
  });
  try {
    const { conn, control } = await relay.authed;
    conn.sendDatagram(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    await nextError(errors, 1, 5000);
    assert.equal(errors[0]!.code, 'protocol');
    assert.match(errors[0]!.message, /^datagram: /);
    assert.equal(closed.length, 0, 'a bad datagram does not end the connection');
    control.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    await nextError(errors, 2, 5000);
    assert.equal(errors[1]!.code, 'protocol');
    assert.match(errors[1]!.message, /^control stream: /);
  } finally {
    client.close();
    await relay.server.close();
  }
});
