// Reconnects against a real relay, once per SDK transport (WebSocket and QUIC, see
// transport-kits.ts): a relay restart, a path cut while publishing into the offline queue, a
// token refreshed mid-session, a 401 on reconnect, and flush(). Every subscription must work
// again, with no duplicates and nothing lost once the client is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientError } from '../src/node.js';
import { checkExactlyOnce, collect, makeToken, nextConnected, startTestRelay, text, waitFor } from './helpers.js';
import { TRANSPORT_KITS } from './transport-kits.js';

const fastReconnect = { baseDelayMs: 20, maxDelayMs: 200, overlapMs: 1000 };

for (const kit of TRANSPORT_KITS) {
  test(`${kit.name}: relay restart on the same ports and dataDir: reconnect, every subscription restored, no duplicates`, async (t) => {
    const r = await startTestRelay();
    t.after(() => r.close());
    const { token } = await makeToken(r.relay.httpUrl);
    const { quicPort, quicCaPem } = r.relay;
    const client = await kit.connect(r, { token, reconnect: fastReconnect });
    t.after(() => client.close());
    const states: string[] = [];
    client.on('state', (e) => states.push(e.state));
    const a = collect(await client.subscribe('t1', 'a.#'));
    const b = collect(await client.subscribe('t1', 'b.*'));
    const subs = [{ channel: 'a.x', got: a }, { channel: 'b.y', got: b }];
    await checkExactlyOnce(client, subs, 20, 'before');

    const back = nextConnected(client);
    await r.restart();
    // Same ports, and the QUIC certificate generated into dataDir is reused, so a client's pinned CA still verifies.
    assert.equal(r.relay.quicPort, quicPort);
    assert.equal(r.relay.quicCaPem, quicCaPem);
    const restartedAt = Date.now();
    await back;
    assert.ok(Date.now() - restartedAt < 3000, `reconnected ${Date.now() - restartedAt} ms after the restart`);
    assert.ok(states.includes('reconnecting'), `states: ${states.join(',')}`);
    assert.equal(client.state, 'connected');
    assert.equal(client.stats.reconnects, 1);
    const publisher = await kit.connect(r, { token });
    t.after(() => publisher.close());
    await checkExactlyOnce(publisher, subs, 50, 'after');
    await checkExactlyOnce(client, subs, 10, 'own');
  });

  test(`${kit.name}: path cut: reconnect, subscriptions restored, queued publishes flushed, no duplicates`, async (t) => {
    const r = await startTestRelay();
    t.after(() => r.close());
    const path = await kit.path(r);
    t.after(() => path.close());
    const { token } = await makeToken(r.relay.httpUrl);
    const client = await kit.connect(r, { token, reconnect: fastReconnect, ...kit.fastDetection, publishQueue: { maxMessages: 5, policy: 'drop-oldest' } }, path);
    t.after(() => client.close());
    const a = collect(await client.subscribe('t1', 'a.#'));
    const b = collect(await client.subscribe('t1', 'b.>'));
    const subs = [{ channel: 'a.x', got: a }, { channel: 'b.y.z', got: b }];
    const publisher = await kit.connect(r, { token });
    t.after(() => publisher.close());
    await checkExactlyOnce(publisher, subs, 20, 'before');

    const cutAt = Date.now();
    path.down();
    await waitFor(() => client.state === 'reconnecting', 4000, 'reconnecting state');
    const detectedMs = Date.now() - cutAt;
    for (let i = 0; i < 8; i++) client.publish('t1', 'a.q', `queued-${i}`);
    assert.equal(client.stats.queued, 5);
    assert.equal(client.stats.queueDropped, 3);
    // flush() waits through the outage: it settles only once the queue has gone out.
    let flushedAt = 0;
    const flushed = client.flush().then(() => (flushedAt = Date.now()));
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(flushedAt, 0, 'flush() waits while the queue cannot go out');
    const back = nextConnected(client, 8000);
    path.up();
    await back;
    await flushed;
    assert.equal(client.stats.queued, 0);
    assert.equal(client.stats.reconnects, 1);
    // The queued messages went out after the subscriptions were restored: the client sees its own.
    await waitFor(() => a.filter((m) => text(m.payload).startsWith('queued-')).length === 5, 3000, 'queued messages');
    assert.deepEqual(a.filter((m) => text(m.payload).startsWith('queued-')).map((m) => text(m.payload)), ['queued-3', 'queued-4', 'queued-5', 'queued-6', 'queued-7']);
    await checkExactlyOnce(publisher, subs, 50, 'after');
    await checkExactlyOnce(client, subs, 10, 'own');
    assert.ok(detectedMs < 3000, `cut detected after ${detectedMs} ms`);
  });

  test(`${kit.name}: a token expiring mid-session is refreshed through tokenProvider (make-before-break), nothing lost or duplicated`, async (t) => {
    const r = await startTestRelay();
    t.after(() => r.close());
    const first = await makeToken(r.relay.httpUrl, { ttlMs: 3000 });
    const path = await kit.path(r);
    t.after(() => path.close());
    let provided = 0;
    const client = await kit.connect(
      r,
      {
        token: first.token,
        tokenExpiresAt: first.expiresAt,
        tokenRefreshMarginMs: 1500,
        tokenProvider: async () => {
          provided++;
          const next = await makeToken(r.relay.httpUrl, { ttlMs: 3_600_000 });
          return { token: next.token, expiresAt: next.expiresAt };
        },
        reconnect: { ...fastReconnect, overlapMs: 1500 },
        ...kit.fastDetection,
      },
      path,
    );
    t.after(() => client.close());
    const a = collect(await client.subscribe('t1', 'a.#'));
    const subs = [{ channel: 'a.x', got: a }];
    const publisher = await kit.connect(r, { token: (await makeToken(r.relay.httpUrl)).token });
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
    path.down();
    await waitFor(() => client.state === 'reconnecting', 4000, 'reconnecting state');
    path.up();
    await back;
    await checkExactlyOnce(publisher, subs, 10, 'after-cut');
    assert.deepEqual(errors, []);
    assert.equal(provided, 1);
  });

  test(`${kit.name}: a refusal on reconnect (expired token the SDK was not told about) asks the tokenProvider for a new token`, async (t) => {
    const r = await startTestRelay();
    t.after(() => r.close());
    const first = await makeToken(r.relay.httpUrl, { ttlMs: 1500 });
    const path = await kit.path(r);
    t.after(() => path.close());
    const reasons: string[] = [];
    const client = await kit.connect(
      r,
      {
        token: first.token, // expiry not told to the SDK: it finds out through the refusal
        tokenProvider: async ({ reason }) => {
          reasons.push(reason);
          return (await makeToken(r.relay.httpUrl)).token;
        },
        reconnect: fastReconnect,
        ...kit.fastDetection,
      },
      path,
    );
    t.after(() => client.close());
    const a = collect(await client.subscribe('t1', 'a.#'));
    await waitFor(() => Date.now() > first.expiresAt + 100, 4000, 'expiry');
    const back = nextConnected(client);
    path.down();
    await waitFor(() => client.state === 'reconnecting', 4000, 'reconnecting state');
    path.up();
    await back;
    assert.ok(reasons.includes('unauthorized'), `token requests: ${reasons.join(',')}`);
    await checkExactlyOnce(client, [{ channel: 'a.b', got: a }], 10, 'after');
  });

  test(`${kit.name}: flush() resolves once large publishes have left, rejects on close and on abort`, async (t) => {
    const r = await startTestRelay();
    t.after(() => r.close());
    const path = await kit.path(r);
    t.after(() => path.close());
    const { token } = await makeToken(r.relay.httpUrl);
    const client = await kit.connect(r, { token, reconnect: fastReconnect, ...kit.fastDetection }, path);
    t.after(() => client.close());
    const sub = collect(await client.subscribe('t1', 'bulk'));
    const payload = new Uint8Array(32 * 1024).fill(7);
    for (let i = 0; i < 64; i++) client.publish('t1', 'bulk', payload);
    await client.flush();
    assert.equal(client.bufferedAmount, 0, 'nothing left in the connection after flush()');
    await waitFor(() => sub.length === 64, 5000, 'bulk deliveries');

    path.down();
    await waitFor(() => client.state === 'reconnecting', 4000, 'reconnecting state');
    client.publish('t1', 'bulk', 'offline');
    const aborted = client.flush({ signal: AbortSignal.timeout(100) });
    await assert.rejects(aborted, (e: unknown) => e instanceof ClientError && e.code === 'aborted');
    const pending = client.flush();
    await client.close();
    await assert.rejects(pending, (e: unknown) => e instanceof ClientError && e.code === 'closed');
  });
}
