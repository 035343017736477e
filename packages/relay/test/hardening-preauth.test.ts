// Pre-authentication bounds over real sockets: silent TCP floods are capped per IP and in
// total (oldest cut first) and reaped after the handshake deadline while /ping keeps
// answering; QUIC connections that never AUTH do not take authenticated capacity.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { QuicEndpoint } from '@fastpubsub/quic';
import { QuicEdgeClient } from '@fastpubsub/client/quic';
import { TestEnv, http, metricValue, sleep, within } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
afterEach(() => env.cleanup());

/** Opens `n` TCP connections from `localAddress` that never send a byte. */
async function silent(port: number, localAddress: string, n: number): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      s.once('connect', () => resolve());
      s.once('close', () => resolve());
    });
    out.push(env.trackSocket(s));
  }
  return out;
}

const closedCount = (sockets: net.Socket[]): number => sockets.filter((s) => s.destroyed || s.readyState === 'closed').length;

async function waitFor(what: string, ms: number, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`${what} not within ${ms} ms`);
    await sleep(20);
  }
}

test('silent TCP connections are capped per IP and in total, reaped at the deadline, and /ping keeps working', async () => {
  const relay = await env.relay({ quic: { enabled: false }, limits: { maxPreAuthConnections: 30, maxConnectionsPerIp: 20, handshakeTimeoutMs: 800 } });
  const fromA = await silent(relay.port, '127.0.0.2', 25);
  // Per IP: 20 held, the other 5 cut at once.
  await waitFor('per-IP cut', 2000, () => closedCount(fromA) >= 5);
  const fromB = await silent(relay.port, '127.0.0.3', 20);
  // In total 30 pre-auth: the oldest (from A) were cut to make room for B.
  await waitFor('eviction of the oldest', 2000, () => closedCount(fromA) + closedCount(fromB) >= 15);
  assert.ok(closedCount(fromB) < 20, 'the newest connections were kept');
  const ping = await http(relay.httpUrl, 'GET', '/ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.text, 'pong');
  // Handshake deadline: every silent socket is gone well before Node's 60 s header timeout.
  await waitFor('handshake deadline', 3000, () => closedCount(fromA) === 25 && closedCount(fromB) === 20);
  const m = await http(relay.httpUrl, 'GET', '/metrics');
  assert.ok((metricValue(m.text, 'fastpubsub_connections_refused_total', { edge: 'ws', reason: 'per_ip' }) ?? 0) >= 5);
  assert.ok((metricValue(m.text, 'fastpubsub_connections_refused_total', { edge: 'ws', reason: 'pre_auth_evicted' }) ?? 0) >= 10);
  assert.ok((metricValue(m.text, 'fastpubsub_connections_refused_total', { edge: 'ws', reason: 'handshake_timeout' }) ?? 0) >= 1);
});

test('QUIC connections that never AUTH do not count against maxConnections, and are cut at the auth deadline', async () => {
  const relay = await env.relay({ limits: { maxConnections: 3, maxPreAuthConnections: 8 }, quic: { authTimeoutMs: 800 } });
  const token = await env.token(relay);
  const endpoint = new QuicEndpoint({ host: '127.0.0.1' });
  try {
    const silentConns = [];
    for (let i = 0; i < 6; i++) {
      silentConns.push(await endpoint.connect({ host: '127.0.0.1', port: relay.quicPort as number, alpn: ['fastpubsub/1'], caPem: relay.quicCaPem }));
    }
    // Six pre-auth connections, capacity 3: a real client still authenticates and works.
    const q = await QuicEdgeClient.connect({ host: '127.0.0.1', port: relay.quicPort as number, token, caPem: relay.quicCaPem });
    await within(q.ping(), 2000, 'ping over an authenticated QUIC connection');
    await within(Promise.all(silentConns.map((c) => c.closed)), 4000, 'pre-auth QUIC connections closed at the auth deadline');
    q.close();
    await q.closed();
  } finally {
    await endpoint.close(0, 'done');
  }
});
