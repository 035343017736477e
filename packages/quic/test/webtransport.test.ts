// WebTransport over HTTP/3 on the same UDP endpoint as the raw QUIC ALPN: real sockets on
// loopback, our addon on both sides (the client speaks the same HTTP/3 subset: SETTINGS,
// extended CONNECT, prefixed streams and datagrams).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuicEndpoint, http3CodeToWebTransport, webTransportCodeToHttp3, type QuicConnection, type QuicStream, type WebTransportSessionInfo } from '../src/index.js';
import { ALPN, closeAll, client, once, pki, until } from './helpers.js';

function wtServer(): QuicEndpoint {
  const p = pki();
  return new QuicEndpoint({ host: '127.0.0.1', server: { certPem: p.serverCertPem, keyPem: p.serverKeyPem, alpn: [ALPN, 'h3'] }, closeTimeoutMs: 1000 });
}

async function session(srv: QuicEndpoint, path: string, status = 200, headers: Record<string, string> = {}) {
  const cli = client();
  const accepted = once<[QuicConnection]>(srv, 'connection');
  const c = await cli.connect({
    host: '127.0.0.1',
    port: srv.address.port,
    serverName: 'localhost',
    alpn: ['h3'],
    caPem: pki().caCertPem,
    webTransport: { path, headers },
  });
  const [s] = await accepted;
  // The SESSION event may come in the same batch as the connection: look before waiting.
  const request = s.webTransportSession ?? (await once<[WebTransportSessionInfo]>(s, 'session'))[0];
  const answered = once<[WebTransportSessionInfo]>(c, 'session');
  s.respondSession(status);
  const [response] = await answered;
  return { cli, c, s, request, response };
}

function collect(st: QuicStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    st.on('data', (d: Buffer) => parts.push(d));
    st.on('end', () => resolve(Buffer.concat(parts).toString()));
    st.on('reset', (code) => reject(new Error(`stream reset ${code}`)));
    st.on('close', (err) => err !== undefined && reject(err));
  });
}

describe('WebTransport over HTTP/3', () => {
  after(closeAll);
  const srv = wtServer();
  after(() => srv.close());

  it('opens a session with the CONNECT path and headers; streams both ways; datagrams', async () => {
    const { c, s, request, response } = await session(srv, '/fastpubsub?tenant=t1', 200, { Origin: 'https://app.test', Authorization: 'Bearer x' });
    assert.equal(s.alpn, 'h3');
    assert.equal(request.path, '/fastpubsub?tenant=t1');
    assert.equal(request.headers[':protocol'], 'webtransport');
    assert.equal(request.headers.origin, 'https://app.test');
    assert.equal(request.headers.authorization, 'Bearer x');
    assert.equal(response.status, 200);

    // Client-opened bidi: the server sees it as an ordinary stream, without the WT prefix.
    const seen = once<[QuicStream]>(s, 'stream');
    const bi = c.openBidiStream();
    bi.end(Buffer.from('hello'));
    const [sb] = await seen;
    assert.equal(sb.direction, 'bidi');
    assert.equal(await collect(sb), 'hello');
    const echoed = collect(bi);
    sb.end(Buffer.from('world'));
    assert.equal(await echoed, 'world');

    // Server-opened uni.
    const seenUni = once<[QuicStream]>(c, 'stream');
    s.openUniStream().end(Buffer.from('line-1'));
    const [cu] = await seenUni;
    assert.equal(await collect(cu), 'line-1');

    // Datagrams, both ways, without the quarter-stream-id prefix.
    const atServer: string[] = [];
    const atClient: string[] = [];
    s.on('datagram', (d) => atServer.push(d.toString()));
    c.on('datagram', (d) => atClient.push(d.toString()));
    const max = s.maxDatagramSize;
    assert.ok(max !== undefined && max > 1000);
    for (let i = 0; i < 10; i++) {
      c.sendDatagram(Buffer.from(`up-${i}`));
      s.sendDatagram(Buffer.from(`down-${i}`));
    }
    await until(() => atServer.length >= 8 && atClient.length >= 8, 3000, 'datagrams');
    assert.ok(atServer.every((d) => d.startsWith('up-')));
    assert.ok(atClient.every((d) => d.startsWith('down-')));

    // Session close with a code: both sides report it.
    const cClosed = c.closed;
    s.closeSession(4003, 'revoked');
    const [ci, si] = await Promise.all([cClosed, s.closed]);
    assert.deepEqual([ci.how, ci.code, ci.reason], ['remote', 4003, 'revoked']);
    assert.deepEqual([si.how, si.code], ['local', 4003]);
  });

  it('a refused CONNECT answers its status and ends the connection; raw QUIC on the same port is unaffected', async () => {
    const { c, response } = await session(srv, '/nowhere', 404);
    assert.equal(response.status, 404);
    await c.closed;
    const raw = client();
    const accepted = once<[QuicConnection]>(srv, 'connection');
    const rc = await raw.connect({ host: '127.0.0.1', port: srv.address.port, serverName: 'localhost', alpn: [ALPN], caPem: pki().caCertPem });
    const [rs] = await accepted;
    assert.equal(rs.alpn, ALPN);
    const seen = once<[QuicStream]>(rs, 'stream');
    rc.openBidiStream().end(Buffer.from('raw'));
    const [st] = await seen;
    assert.equal(await collect(st), 'raw');
    rc.close();
  });

  it('the client closing its session reaches the server with the code', async () => {
    const { c, s } = await session(srv, '/x');
    c.closeSession(7, 'bye');
    const si = await s.closed;
    assert.deepEqual([si.how, si.code, si.reason], ['remote', 7, 'bye']);
  });

  it('maps WebTransport codes into the HTTP/3 error space and back', () => {
    assert.equal(webTransportCodeToHttp3(0), 0x52e4a40fa8db);
    for (const code of [0, 1, 29, 30, 31, 4000, 0xffffffff]) assert.equal(http3CodeToWebTransport(webTransportCodeToHttp3(code)), code);
    assert.equal(http3CodeToWebTransport(0x10c), undefined);
  });
});
