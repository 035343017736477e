import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuicError, QuicErrorCode, generateTestPki, type QuicConnection } from '../src/index.js';
import { ALPN, client, closeAll, once, pair, pki, server, sleep } from './helpers.js';

after(closeAll);

/** A refused client either fails connect() or (TLS 1.3: the client finishes first) sees the connection closed by the server's alert. */
async function refused(p: Promise<QuicConnection>): Promise<void> {
  let c: QuicConnection;
  try {
    c = await p;
  } catch (err) {
    assert.ok(err instanceof QuicError);
    assert.equal(err.code, QuicErrorCode.ConnectFailed);
    return;
  }
  const info = await Promise.race([c.closed, sleep(3000).then(() => undefined)]);
  assert.ok(info !== undefined, 'connection should be closed by the server');
  assert.match(info.how, /^transport-/);
}

describe('quic tls', () => {
  it('handshakes with a custom CA; ALPN and server identity are exposed', async () => {
    const { c, s } = await pair();
    assert.equal(c.alpn, ALPN);
    assert.equal(s.alpn, ALPN);
    assert.equal(c.peerX509?.subject, 'CN=localhost');
    assert.match(c.peerX509?.subjectAltName ?? '', /DNS:localhost/);
    assert.ok(c.peerX509?.checkIssued(new (await import('node:crypto')).X509Certificate(pki().caCertPem)));
    assert.equal(s.peerCertificate, undefined, 'no client certificate without mutual TLS');
    assert.equal(s.remoteAddress.host, '127.0.0.1');
  });

  it('fails against a server whose certificate is not from the trusted CA', async () => {
    const srv = server();
    let accepted = false;
    srv.on('connection', () => (accepted = true));
    const other = generateTestPki();
    await assert.rejects(
      client().connect({ host: '127.0.0.1', port: srv.address.port, serverName: 'localhost', alpn: [ALPN], caPem: other.caCertPem }),
      (e: unknown) => e instanceof QuicError && e.code === QuicErrorCode.ConnectFailed,
    );
    await sleep(100);
    assert.equal(accepted, false);
  });

  it('fails when the server name does not match the certificate', async () => {
    const srv = server();
    await assert.rejects(
      client().connect({ host: '127.0.0.1', port: srv.address.port, serverName: 'evil.example', alpn: [ALPN], caPem: pki().caCertPem }),
      QuicError,
    );
  });

  it('fails on ALPN mismatch', async () => {
    const srv = server();
    const failed = once(srv, 'handshakeError');
    await assert.rejects(
      client().connect({ host: '127.0.0.1', port: srv.address.port, serverName: 'localhost', alpn: ['mesh/9'], caPem: pki().caCertPem }),
      (e: unknown) => e instanceof QuicError && e.code === QuicErrorCode.ConnectFailed,
    );
    await failed;
  });

  describe('mutual TLS', () => {
    const p = pki();
    const mtls = (): ReturnType<typeof server> => server({ tls: { clientCaPem: p.caCertPem } });
    const opts = (port: number) => ({ host: '127.0.0.1', port, serverName: 'localhost', alpn: [ALPN], caPem: p.caCertPem });

    it('refuses a client without a certificate before surfacing a connection', async () => {
      const srv = mtls();
      let accepted = 0;
      srv.on('connection', () => accepted++);
      const failed = once(srv, 'handshakeError');
      await refused(client().connect(opts(srv.address.port)));
      await failed;
      assert.equal(accepted, 0);
    });

    it('refuses a client whose certificate is from another CA', async () => {
      const srv = mtls();
      let accepted = 0;
      srv.on('connection', () => accepted++);
      const bad = generateTestPki(['localhost'], 'intruder');
      const failed = once(srv, 'handshakeError');
      await refused(client().connect({ ...opts(srv.address.port), certPem: bad.clientCertPem, keyPem: bad.clientKeyPem }));
      await failed;
      assert.equal(accepted, 0);
    });

    it('accepts a client with a good certificate and exposes its identity', async () => {
      const srv = mtls();
      const accepted = once<[QuicConnection]>(srv, 'connection');
      const c = await client().connect({ ...opts(srv.address.port), certPem: p.clientCertPem, keyPem: p.clientKeyPem });
      const [s] = await accepted;
      assert.equal(s.peerX509?.subject, 'CN=relay-a.mesh');
      assert.equal(s.peerX509?.subjectAltName, 'DNS:relay-a.mesh');
      assert.ok(s.peerCertificate && s.peerCertificate.length > 100);
      assert.equal(c.isClosed, false);
    });
  });
});
