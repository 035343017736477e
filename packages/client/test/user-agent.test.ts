// The Node SDK names itself on the WebSocket upgrade (User-Agent `fastpubsub-js/<v> node/<v>`):
// a TCP relay in front of a real relay records each request head the client sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import { USER_AGENT, connect } from '../src/node.js';
import { makeToken, startTestRelay } from './helpers.js';


/** A loopback TCP pass-through to `port` that keeps the first bytes of every connection. */
async function recordingProxy(port: number): Promise<{ url: string; heads: string[]; close(): Promise<void> }> {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = tcpConnect(port, '127.0.0.1');
    sockets.add(inbound).add(outbound);
    inbound.once('data', (chunk: Buffer) => heads.push(chunk.toString('latin1').split('\r\n\r\n')[0]!));
    inbound.pipe(outbound).pipe(inbound);
    const end = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heads,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('the Node SDK sends fastpubsub-js/<version> node/<version> as User-Agent on the WebSocket upgrade', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(USER_AGENT, `fastpubsub-js/${pkg.version} node/${process.versions.node}`);

  const r = await startTestRelay();
  t.after(() => r.close());
  const proxy = await recordingProxy(r.relay.port);
  t.after(() => proxy.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await connect({ endpoint: proxy.url, token });
  t.after(() => client.close());

  const upgrade = proxy.heads.find((h) => h.startsWith('GET /ws'));
  assert.ok(upgrade !== undefined, `no upgrade among ${JSON.stringify(proxy.heads)}`);
  const userAgent = /^user-agent: (.*)$/im.exec(upgrade)?.[1];
  assert.equal(userAgent, USER_AGENT);
});
