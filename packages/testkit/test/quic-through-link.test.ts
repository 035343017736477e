// A real QUIC connection (@fastpubsub/quic) through a UdpLinkEmulator: the client dials the
// emulator's port and reaches the server; the handshake and a stream echo see the added delay.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { QuicEndpoint, generateTestPki, type QuicConnection, type QuicStream } from '@fastpubsub/quic';
import { UdpLinkEmulator } from '../src/index.js';

const ALPN = 'fastpubsub-testkit/1';
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

function echoOnce(stream: QuicStream, data: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no echo of '${data}' within 5 s`)), 5000);
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (got.length >= data.length) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(performance.now() - start);
      }
    };
    stream.on('data', onData);
    stream.write(Buffer.from(data));
  });
}

test('QUIC handshake and stream echo through the emulated link (50 ms each way)', async () => {
  const pki = generateTestPki(['localhost', '127.0.0.1'], 'relay-b.mesh');
  const srv = new QuicEndpoint({
    host: '127.0.0.1',
    server: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, alpn: [ALPN] },
    closeTimeoutMs: 500,
  });
  cleanup.push(() => srv.close());
  const cli = new QuicEndpoint({ host: '127.0.0.1', closeTimeoutMs: 500 });
  cleanup.push(() => cli.close());
  const emu = await UdpLinkEmulator.start({ a: cli.address, b: srv.address, link: { delayMs: 50 } });
  cleanup.push(() => emu.close());

  srv.on('connection', (conn: QuicConnection) => {
    conn.on('stream', (st: QuicStream) => st.on('data', (d: Buffer) => st.write(d)));
  });
  const t0 = performance.now();
  const conn = await cli.connect({
    host: emu.addressForA.host, port: emu.addressForA.port, serverName: 'localhost', alpn: [ALPN], caPem: pki.caCertPem,
  });
  const handshake = performance.now() - t0;
  assert.ok(handshake >= 95 && handshake < 3000, `handshake ${handshake} ms (≥ 1 RTT)`);
  const st = conn.openBidiStream();
  const rtts: number[] = [];
  for (let i = 0; i < 3; i++) rtts.push(await echoOnce(st, `hello-${i}`));
  for (const rtt of rtts) assert.ok(rtt >= 95 && rtt < 1000, `stream echo rtt ${rtt} ms`);
  const s = emu.stats();
  assert.equal(s.sessions, 1, 'one stable 4-tuple');
  assert.ok(s.aToB.forwarded > 3 && s.bToA.forwarded > 3);
  assert.equal(s.aToB.dropped + s.bToA.dropped, 0);

  // Changed at runtime: 10 ms each way now.
  emu.setLink({ delayMs: 10 });
  await new Promise((r) => setTimeout(r, 150)); // packets already scheduled at 50 ms drain first
  const faster = await echoOnce(st, 'faster');
  assert.ok(faster >= 19 && faster < 400, `after setLink rtt ${faster} ms`);
  conn.close();
});
