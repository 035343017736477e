// The resilience checks of resilience.test.ts over the QUIC transport (@fastpubsub/client/quic),
// against a real relay: restart on the same ports and dataDir (the token and the generated QUIC
// certificate survive), a path cut by a UDP link emulator, and a token refreshed mid-session.
// Every subscription must work again, with no duplicates and nothing lost once the client is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UdpLinkEmulator } from '@fastpubsub/testkit';
import { connect, type Client, type QuicConnectOptions } from '../src/quic.js';
import { checkExactlyOnce, collect, makeToken, nextConnected, startTestRelay, text, waitFor, type TestRelay } from './helpers.js';

const fastReconnect = { baseDelayMs: 20, maxDelayMs: 200, overlapMs: 1000 };
// A dead path is noticed by the SDK's PING/PONG probe within ~1.2 s (QUIC's own idle timeout is 10 s).
const fastPing = { intervalMs: 200, timeoutMs: 1000 };

/** The relay's QUIC port and CA, optionally dialled through `port` (a link emulator). */
function quicOf(r: TestRelay, port?: number): NonNullable<QuicConnectOptions['quic']> {
  const quicPort = r.relay.quicPort;
  const caPem = r.relay.quicCaPem;
  assert.ok(quicPort !== undefined && caPem !== undefined, 'the relay runs its QUIC edge with a generated certificate');
  return { port: port ?? quicPort, caPem };
}

async function quicClient(r: TestRelay, options: Omit<QuicConnectOptions, 'endpoint' | 'quic'> & { viaPort?: number }): Promise<Client> {
  const { viaPort, ...rest } = options;
  return connect({ endpoint: r.relay.httpUrl, quic: quicOf(r, viaPort), ...rest });
}

test('quic: relay restart on the same ports and dataDir: reconnect, every subscription restored, no duplicates', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const quicPort = r.relay.quicPort;
  const caPem = r.relay.quicCaPem;
  // Default PING settings: the relay's shutdown closes the QUIC connection, so the client notices
  // at once without the liveness probe.
  const client = await quicClient(r, { token, reconnect: fastReconnect });
  t.after(() => client.close());
  const states: string[] = [];
  client.on('state', (e) => states.push(e.state));
  const a = collect(await client.subscribe('t1', 'a.#'));
  const b = collect(await client.subscribe('t1', 'b.*'));
  const subs = [{ channel: 'a.x', got: a }, { channel: 'b.y', got: b }];
  await checkExactlyOnce(client, subs, 20, 'before');

  const back = nextConnected(client);
  await r.restart();
  // Same QUIC port, and the certificate generated into dataDir/quic/ is reused (not regenerated),
  // so the client's pinned CA still verifies the new relay.
  assert.equal(r.relay.quicPort, quicPort);
  assert.equal(r.relay.quicCaPem, caPem);
  assert.equal(readFileSync(join(r.dataDir, 'quic', 'ca.pem'), 'utf8'), caPem);
  const restartedAt = Date.now();
  await back;
  assert.ok(Date.now() - restartedAt < 3000, `reconnected ${Date.now() - restartedAt} ms after the restart`);
  assert.ok(states.includes('reconnecting'), `states: ${states.join(',')}`);
  assert.equal(client.state, 'connected');
  assert.equal(client.stats.reconnects, 1);
  const publisher = await quicClient(r, { token });
  t.after(() => publisher.close());
  await checkExactlyOnce(publisher, subs, 50, 'after');
  await checkExactlyOnce(client, subs, 10, 'own');
});

test('quic: path cut by a UDP link emulator: dead connection detected, reconnect, subscriptions restored, queued publishes flushed, no duplicates', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const emu = await UdpLinkEmulator.start({
    a: { host: '127.0.0.1', port: 0 }, // the client: reached through the NAT-style session, never dialled
    b: { host: '127.0.0.1', port: quicOf(r).port! },
  });
  t.after(() => emu.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await quicClient(r, {
    viaPort: emu.addressForA.port,
    token,
    reconnect: fastReconnect,
    ping: fastPing,
    openTimeoutMs: 1000,
    publishQueue: { maxMessages: 5, policy: 'drop-oldest' },
  });
  t.after(() => client.close());
  const a = collect(await client.subscribe('t1', 'a.#'));
  const b = collect(await client.subscribe('t1', 'b.>'));
  const subs = [{ channel: 'a.x', got: a }, { channel: 'b.y.z', got: b }];
  const publisher = await quicClient(r, { token });
  t.after(() => publisher.close());
  await checkExactlyOnce(publisher, subs, 20, 'before');
  assert.ok(emu.stats().aToB.forwarded > 0, 'the client talks to the relay through the emulator');

  // A silent cut (no CONNECTION_CLOSE reaches either side): only liveness checks can notice it.
  const cutAt = Date.now();
  emu.setDown(true);
  await waitFor(() => client.state === 'reconnecting', 4000, 'reconnecting state');
  const detectedMs = Date.now() - cutAt;
  for (let i = 0; i < 8; i++) client.publish('t1', 'a.q', `queued-${i}`);
  assert.equal(client.stats.queued, 5);
  assert.equal(client.stats.queueDropped, 3);
  // Published while the path is down: lost for the client (it is not subscribed anywhere now).
  const back = nextConnected(client, 8000);
  emu.setDown(false);
  await back;
  assert.equal(client.stats.queued, 0);
  assert.equal(client.stats.reconnects, 1);
  await waitFor(() => a.filter((m) => text(m.payload).startsWith('queued-')).length === 5, 3000, 'queued messages');
  assert.deepEqual(a.filter((m) => text(m.payload).startsWith('queued-')).map((m) => text(m.payload)), ['queued-3', 'queued-4', 'queued-5', 'queued-6', 'queued-7']);
  await checkExactlyOnce(publisher, subs, 50, 'after');
  await checkExactlyOnce(client, subs, 10, 'own');
  assert.ok(detectedMs < 3000, `cut detected after ${detectedMs} ms`);
});

test('quic: a token expiring mid-session is refreshed through tokenProvider (make-before-break), nothing lost or duplicated', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const first = await makeToken(r.relay.httpUrl, { ttlMs: 3000 });
  const emu = await UdpLinkEmulator.start({ a: { host: '127.0.0.1', port: 0 }, b: { host: '127.0.0.1', port: quicOf(r).port! } });
  t.after(() => emu.close());
  let provided = 0;
  const client = await quicClient(r, {
    viaPort: emu.addressForA.port,
    token: first.token,
    tokenExpiresAt: first.expiresAt,
    tokenRefreshMarginMs: 1500,
    tokenProvider: async () => {
      provided++;
      const next = await makeToken(r.relay.httpUrl, { ttlMs: 3_600_000 });
      return { token: next.token, expiresAt: next.expiresAt };
    },
    reconnect: { ...fastReconnect, overlapMs: 1500 },
    ping: fastPing,
    openTimeoutMs: 1000,
  });
  t.after(() => client.close());
  const a = collect(await client.subscribe('t1', 'a.#'));
  const subs = [{ channel: 'a.x', got: a }];
  const publisher = await quicClient(r, { token: (await makeToken(r.relay.httpUrl)).token });
  t.after(() => publisher.close());

  const migrated = nextConnected(client, 6000);
  // Publish steadily across the refresh: the overlap must not duplicate or lose any of them.
  let i = 0;
  const steady = setInterval(() => publisher.publish('t1', 'a.steady', `s-${i++}`), 5);
  t.after(() => clearInterval(steady));
  await migrated;
  assert.equal(provided, 1);
  await new Promise((res) => setTimeout(res, 300));
  clearInterval(steady);
  const sent = i;
  await waitFor(() => a.filter((m) => m.channel === 'a.steady').length >= sent, 3000, 'steady messages');
  await new Promise((res) => setTimeout(res, 200));
  assert.deepEqual(a.filter((m) => m.channel === 'a.steady').map((m) => text(m.payload)), Array.from({ length: sent }, (_, k) => `s-${k}`));
  assert.ok(client.stats.duplicatesDropped > 0, 'the overlap saw both connections deliver');

  await waitFor(() => Date.now() > first.expiresAt + 200, 5000, 'first token expiry');
  // After expiry: the client's own publishes work (a connection on the expired token would be refused) …
  const errors: string[] = [];
  client.on('error', (e) => errors.push(e.serverCode ?? e.code));
  await checkExactlyOnce(client, subs, 10, 'own-after-expiry');
  await checkExactlyOnce(publisher, subs, 10, 'after-expiry');
  // … and a reconnect after a cut uses the new token.
  const back = nextConnected(client, 8000);
  emu.setDown(true);
  await waitFor(() => client.state === 'reconnecting', 4000, 'reconnecting state');
  emu.setDown(false);
  await back;
  await checkExactlyOnce(publisher, subs, 10, 'after-cut');
  assert.deepEqual(errors, []);
  assert.equal(provided, 1);
});
