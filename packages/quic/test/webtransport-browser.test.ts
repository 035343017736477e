// Headless Chromium (Debian's, via playwright-core) opens a WebTransport session to our HTTP/3
// endpoint, trusting a 14-day ECDSA certificate by its hash (serverCertificateHashes): echo
// over a bidirectional stream, a server-opened unidirectional stream, datagrams both ways,
// and the session close code the server chose.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { QuicEndpoint, generateWebTransportCert, type QuicConnection, type QuicStream } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
const p = new URLSearchParams(location.search);
const hash = Uint8Array.from(atob(p.get('hash')), (c) => c.charCodeAt(0));
window.log = [];
try {
  const wt = new WebTransport(p.get('url'), { serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] });
  await wt.ready;
  window.log.push('ready');
  const bi = await wt.createBidirectionalStream();
  const w = bi.writable.getWriter();
  await w.write(new TextEncoder().encode('ping'));
  await w.close();
  const r = bi.readable.getReader();
  let echo = '';
  for (;;) { const { value, done } = await r.read(); if (done) break; echo += new TextDecoder().decode(value); }
  window.log.push('echo:' + echo);
  const uni = wt.incomingUnidirectionalStreams.getReader();
  const { value: stream } = await uni.read();
  const ur = stream.getReader();
  let line = '';
  for (;;) { const { value, done } = await ur.read(); if (done) break; line += new TextDecoder().decode(value); }
  window.log.push('uni:' + line);
  const dw = wt.datagrams.writable.getWriter();
  const dr = wt.datagrams.readable.getReader();
  for (let i = 0; i < 5; i++) await dw.write(new TextEncoder().encode('dg' + i));
  const { value: dg } = await dr.read();
  window.log.push('datagram:' + new TextDecoder().decode(dg));
  const info = await wt.closed;
  window.log.push('closed:' + info.closeCode + ':' + info.reason);
} catch (err) {
  window.log.push('error:' + err);
}
</script>`;

describe('WebTransport from Chromium', () => {
  before(() => assert.ok(existsSync(CHROMIUM), `these tests need ${CHROMIUM}: install Debian's chromium package`));
  const cert = generateWebTransportCert(['127.0.0.1', 'localhost']);
  const ep = new QuicEndpoint({ host: '127.0.0.1', server: { certPem: cert.certPem, keyPem: cert.keyPem, alpn: ['h3'] }, closeTimeoutMs: 1000 });
  after(() => ep.close());

  it('bidi echo, server uni stream, datagrams and the close code reach the page', async () => {
    const serverLog: string[] = [];
    ep.on('connection', (c: QuicConnection) => {
      c.on('session', (info) => {
        serverLog.push(`session ${info.path} origin=${info.headers.origin}`);
        c.respondSession(info.path === '/echo' ? 200 : 404);
      });
      c.on('stream', (s: QuicStream) => {
        const parts: Buffer[] = [];
        s.on('data', (d: Buffer) => parts.push(d));
        s.on('end', () => {
          s.end(Buffer.concat(parts));
          c.openUniStream().end(Buffer.from('from-server'));
        });
      });
      c.on('datagram', (d) => {
        serverLog.push(`datagram ${d.toString()}`);
        c.sendDatagram(Buffer.concat([Buffer.from('re:'), d]));
        setTimeout(() => c.closeSession(4321, 'done'), 100);
      });
    });
    const site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    const profile = mkdtempSync(join(tmpdir(), 'fps-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const tab = await context.newPage();
      const url = `https://127.0.0.1:${ep.address.port}/echo`;
      const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
      await tab.goto(`${origin}/?url=${encodeURIComponent(url)}&hash=${encodeURIComponent(cert.sha256.toString('base64'))}`);
      await tab.waitForFunction(() => (window as unknown as { log: string[] }).log.some((l) => l.startsWith('closed:') || l.startsWith('error:')), undefined, { timeout: 15_000 });
      const log = await tab.evaluate(() => (window as unknown as { log: string[] }).log);
      assert.deepEqual(log.slice(0, 3), ['ready', 'echo:ping', 'uni:from-server']);
      assert.match(log[3] ?? '', /^datagram:re:dg\d$/);
      assert.equal(log[4], 'closed:4321:done');
      assert.equal(serverLog[0], `session /echo origin=${origin}`);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      site.closeAllConnections();
      site.close();
    }
  });
});
