// The relay's WebTransport edge (ALPN h3 on the QUIC edge's UDP port): discovery of the
// certificate hashes, refused paths, missing AUTH, streams the protocol does not allow, and
// revocation — each with its close code, while another session on the same relay is unaffected.
// Real relay, real UDP on loopback; our addon is the HTTP/3 client.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { QuicEndpoint, type QuicConnection, type QuicStream, type WebTransportSessionInfo } from '@fastpubsub/quic';
import { QuicCloseCode, QuicStreamCode } from '@fastpubsub/wire';
import { TestEnv, http, metricValue, tokenBody, webTransportEdge, type Relay } from '@fastpubsub/testkit/relay';
import type { QuicTestClient } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
after(() => env.cleanup());

/** A token whose `allow_protocols` is `protocols`. */
async function tokenFor(relay: Relay, protocols: string[]): Promise<string> {
  const body = tokenBody();
  (body.right as Record<string, unknown>).allow_protocols = protocols;
  const r = await http(relay.httpUrl, 'POST', '/v1/get-token', { body });
  assert.equal(r.status, 200, r.text);
  return (r.json as { token: string }).token;
}

/** A bare WebTransport session (no AUTH sent) to the relay at `path`. */
async function bareSession(relay: Relay, path: string): Promise<{ ep: QuicEndpoint; c: QuicConnection; info: WebTransportSessionInfo }> {
  const ep = new QuicEndpoint({ host: '127.0.0.1', closeTimeoutMs: 300 });
  const c = await ep.connect({
    host: '127.0.0.1',
    port: relay.quicPort as number,
    serverName: 'localhost',
    alpn: ['h3'],
    caPem: relay.webTransportCertPem,
    webTransport: { path, headers: { origin: 'https://app.test' } },
  });
  const info = c.webTransportSession ?? (await new Promise<WebTransportSessionInfo>((r) => c.once('session', r)));
  return { ep, c, info };
}

describe('relay WebTransport edge', () => {
  let relay: Relay;
  let token: string;
  test('GET /v1/webtransport names the port, path and the served certificate hash', async () => {
    relay = await env.relay({ quic: { authTimeoutMs: 600 } });
    token = await env.token(relay);
    const r = await http(relay.httpUrl, 'GET', '/v1/webtransport');
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as { enabled: boolean; port: number; path: string; serverCertificateHashes: { algorithm: string; value: string }[] };
    assert.equal(body.enabled, true);
    assert.equal(body.port, relay.quicPort);
    assert.equal(body.path, '/fastpubsub');
    const cert = new X509Certificate(relay.webTransportCertPem as string);
    const served = createHash('sha256').update(cert.raw).digest('base64');
    assert.deepEqual(body.serverCertificateHashes, [{ algorithm: 'sha-256', value: served }]);
    const lifeMs = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    assert.ok(lifeMs <= 14 * 24 * 3600_000, `valid ${lifeMs} ms`);
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
  });

  test('a CONNECT to another path is answered 404; a live session on the relay is unaffected', async () => {
    const live = (await webTransportEdge.connect(relay, token)) as QuicTestClient;
    try {
      await live.subscribe('t1', 'a.wt.#');
      const { ep, c, info } = await bareSession(relay, '/nope');
      assert.equal(info.status, 404);
      await c.closed;
      await ep.close();
      live.publish('t1', 'a.wt.x', 'still');
      assert.equal((await live.nextMessage()).payload.toString(), 'still');
    } finally {
      await live.close();
    }
  });

  test('no AUTH within the auth timeout: the session closes with AuthTimeout', async () => {
    const { ep, c, info } = await bareSession(relay, '/fastpubsub');
    assert.equal(info.status, 200);
    const closed = await c.closed;
    assert.deepEqual([closed.how, closed.code, closed.reason], ['remote', QuicCloseCode.AuthTimeout, 'unauthorized']);
    await ep.close();
  });

  test('a stream the protocol does not allow (client uni stream) is stopped; the session keeps working', async () => {
    const a = (await webTransportEdge.connect(relay, token)) as QuicTestClient;
    try {
      const stray: QuicStream = a.q.connection.openUniStream();
      const stopped = new Promise<number>((r) => stray.once('stop', r));
      stray.write(Buffer.from('not allowed'));
      assert.equal(await stopped, QuicStreamCode.Unexpected);
      await a.subscribe('t1', 'a.ok.#');
      a.publish('t1', 'a.ok.1', 'fine');
      assert.equal((await a.nextMessage()).payload.toString(), 'fine');
    } finally {
      await a.close();
    }
  });

  test('allow_protocols: a token without webtransport is refused on WebTransport (forbidden), one with it is served', async () => {
    const quicOnly = await tokenFor(relay, ['quic']);
    assert.equal(await webTransportEdge.connectRefused(relay, quicOnly), 'forbidden');
    const wtOnly = await tokenFor(relay, ['webtransport']);
    const c = (await webTransportEdge.connect(relay, wtOnly)) as QuicTestClient;
    await c.ping();
    await c.close();
  });

  test('datagram publishes that fail are dropped and counted, never answered; datagrams that pass are delivered', async () => {
    const a = (await webTransportEdge.connect(relay, token)) as QuicTestClient;
    try {
      await a.subscribe('t1', 'a.dg.#');
      const count = async (): Promise<number> => metricValue(await relay.metricsText(), 'fastpubsub_errors_total', { code: 'permission_denied' }) ?? 0;
      const before = await count();
      for (let i = 0; i < 5; i++) a.q.publish('t1', 'denied.x', Buffer.from('no'), { datagram: true });
      a.q.publish('t1', 'a.dg.ok', Buffer.from('yes'), { datagram: true });
      assert.equal((await a.nextMessage()).payload.toString(), 'yes');
      // Datagrams may be reordered: wait (bounded) for all five to be counted.
      for (let i = 0; i < 40 && (await count()) < before + 5; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await count(), before + 5);
      await assert.rejects(a.nextError(200), /no ERR/);
    } finally {
      await a.close();
    }
  });

  test('revoking a token closes its WebTransport sessions with TokenRevoked, and only those', async () => {
    const doomed = await env.token(relay);
    const d = (await webTransportEdge.connect(relay, doomed)) as QuicTestClient;
    const o = (await webTransportEdge.connect(relay, token)) as QuicTestClient;
    try {
      const closed = d.q.connection.closed;
      const r = await http(relay.httpUrl, 'DELETE', '/v1/revoke-token', { body: { token: doomed } });
      assert.equal(r.status, 200, r.text);
      const info = await closed;
      assert.deepEqual([info.how, info.code, info.reason], ['remote', QuicCloseCode.TokenRevoked, 'token_revoked']);
      await o.ping();
    } finally {
      await o.close();
    }
  });
});
