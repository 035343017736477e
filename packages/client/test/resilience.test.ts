// Reconnects against a real relay: restart, a cut by a TCP proxy, token refresh mid-session,
// and picking the fastest of three edges. Every subscription must work again, with no
// duplicates and nothing lost once the client is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, probeEdges, parseEdge, type Message } from '../src/node.js';
import { checkExactlyOnce, collect, makeToken, nextConnected, startProxy, startTestRelay, text, waitFor } from './helpers.js';

const fastReconnect = { baseDelayMs: 20, maxDelayMs: 200, overlapMs: 1000 };

test('relay restart on the same port and dataDir: reconnect, every subscription restored, no duplicates', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await connect({ endpoint: r.relay.httpUrl, token, reconnect: fastReconnect });
  t.after(() => client.close());
  const states: string[] = [];
  client.on('state', (e) => states.push(e.state));
  const a = collect(await client.subscribe('t1', 'a.#'));
  const b = collect(await client.subscribe('t1', 'b.*'));
  const subs = [{ channel: 'a.x', got: a }, { channel: 'b.y', got: b }];
  await checkExactlyOnce(client, subs, 20, 'before');

  const back = nextConnected(client);
  await r.restart();
  await back;
  assert.ok(states.includes('reconnecting'), `states: ${states.join(',')}`);
  assert.equal(client.state, 'connected');
  assert.equal(client.stats.reconnects, 1);
  const publisher = await connect({ endpoint: r.relay.httpUrl, token });
  t.after(() => publisher.close());
  await checkExactlyOnce(publisher, subs, 50, 'after');
  await checkExactlyOnce(client, subs, 10, 'own');
});

test('connection cut by a proxy: reconnect, subscriptions restored, queued publishes flushed, no duplicates', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const proxy = await startProxy(r.relay.port);
  t.after(() => proxy.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await connect({ endpoint: proxy.url, token, reconnect: fastReconnect, publishQueue: { maxMessages: 5, policy: 'drop-oldest' } });
  t.after(() => client.close());
  const a = collect(await client.subscribe('t1', 'a.#'));
  const b = collect(await client.subscribe('t1', 'b.>'));
  const subs = [{ channel: 'a.x', got: a }, { channel: 'b.y.z', got: b }];
  const publisher = await connect({ endpoint: r.relay.httpUrl, token });
  t.after(() => publisher.close());
  await checkExactlyOnce(publisher, subs, 20, 'before');

  proxy.blocked = true; // keep it down long enough to queue publishes
  proxy.cut();
  await waitFor(() => client.state === 'reconnecting', 3000, 'reconnecting state');
  for (let i = 0; i < 8; i++) client.publish('t1', 'a.q', `queued-${i}`);
  assert.equal(client.stats.queued, 5);
  assert.equal(client.stats.queueDropped, 3);
  const back = nextConnected(client);
  proxy.blocked = false;
  await back;
  assert.equal(client.stats.queued, 0);
  // The queued messages went out after the subscriptions were restored: the client sees its own.
  await waitFor(() => a.filter((m) => text(m.payload).startsWith('queued-')).length === 5, 3000, 'queued messages');
  assert.deepEqual(a.filter((m) => text(m.payload).startsWith('queued-')).map((m) => text(m.payload)), ['queued-3', 'queued-4', 'queued-5', 'queued-6', 'queued-7']);
  await checkExactlyOnce(publisher, subs, 50, 'after');
});

test('a token expiring mid-session is refreshed through tokenProvider (make-before-break), nothing lost or duplicated', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const first = await makeToken(r.relay.httpUrl, { ttlMs: 3000 });
  const proxy = await startProxy(r.relay.port);
  t.after(() => proxy.close());
  let provided = 0;
  const client = await connect({
    endpoint: proxy.url,
    token: first.token,
    tokenExpiresAt: first.expiresAt,
    tokenRefreshMarginMs: 1500,
    tokenProvider: async () => {
      provided++;
      const next = await makeToken(r.relay.httpUrl, { ttlMs: 3_600_000 });
      return { token: next.token, expiresAt: next.expiresAt };
    },
    reconnect: { ...fastReconnect, overlapMs: 1500 },
  });
  t.after(() => client.close());
  const a = collect(await client.subscribe('t1', 'a.#'));
  const subs = [{ channel: 'a.x', got: a }];
  const publisher = await connect({ endpoint: r.relay.httpUrl, token: (await makeToken(r.relay.httpUrl)).token });
  t.after(() => publisher.close());

  const migrated = nextConnected(client, 6000);
  // Publish steadily across the refresh: the overlap must not duplicate or lose any of them.
  let i = 0;
  const steady = setInterval(() => publisher.publish('t1', 'a.steady', `s-${i++}`), 5);
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
  // After expiry: the client's own publishes work (an expired connection would get ERR:token_expired) …
  const errors: string[] = [];
  client.on('error', (e) => errors.push(e.serverCode ?? e.code));
  await checkExactlyOnce(client, subs, 10, 'own-after-expiry');
  await checkExactlyOnce(publisher, subs, 10, 'after-expiry');
  // … and a reconnect after a cut uses the new token.
  const back = nextConnected(client);
  proxy.cut();
  await back;
  await checkExactlyOnce(publisher, subs, 10, 'after-cut');
  assert.deepEqual(errors, []);
  assert.equal(provided, 1);
});

test('a 401 on reconnect asks the tokenProvider for a new token', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const first = await makeToken(r.relay.httpUrl, { ttlMs: 1500 });
  const proxy = await startProxy(r.relay.port);
  t.after(() => proxy.close());
  const reasons: string[] = [];
  const client = await connect({
    endpoint: proxy.url,
    token: first.token, // expiry not told to the SDK: it finds out through the 401
    tokenProvider: async ({ reason }) => {
      reasons.push(reason);
      return (await makeToken(r.relay.httpUrl)).token;
    },
    reconnect: fastReconnect,
  });
  t.after(() => client.close());
  const a = collect(await client.subscribe('t1', 'a.#'));
  await waitFor(() => Date.now() > first.expiresAt + 100, 4000, 'expiry');
  const back = nextConnected(client);
  proxy.cut();
  await back;
  assert.deepEqual(reasons, ['unauthorized']);
  await checkExactlyOnce(client, [{ channel: 'a.b', got: a }], 10, 'after');
});

test('among three edges, the one behind a +150 ms proxy is not chosen; the fastest is', async (t) => {
  const relays = await Promise.all([startTestRelay(), startTestRelay(), startTestRelay()]);
  t.after(() => Promise.all(relays.map((r) => r.close())));
  const slow = await startProxy(relays[0].relay.port, { delayMs: 150 });
  const medium = await startProxy(relays[1].relay.port, { delayMs: 40 });
  t.after(() => Promise.all([slow.close(), medium.close()]));
  const fast = relays[2].relay.httpUrl;
  const bootstrap = [slow.url, medium.url, fast];
  const probes = await probeEdges(bootstrap.map((b) => parseEdge(b)));
  assert.ok(probes.every((p) => p.ok));
  assert.ok(probes[0]!.rttMs! >= 150, `slow edge rtt ${probes[0]!.rttMs}`);
  const { token } = await makeToken(fast);
  const client = await connect({ bootstrap, token });
  t.after(() => client.close());
  assert.equal(client.edge?.httpUrl, fast);
  const sub = await client.subscribe('t1', 'x');
  client.publish('t1', 'x', 'via fastest');
  const m = await sub[Symbol.asyncIterator]().next();
  assert.equal(text((m.value as Message).payload), 'via fastest');
});

test('bootstrap as a discovery URL returning {"edges":[…]}', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await connect({ bootstrap: `${r.relay.httpUrl}/v1/edges`, token });
  t.after(() => client.close());
  assert.equal(client.edge?.httpUrl, r.relay.httpUrl);
  assert.equal(client.edge?.wsUrl, r.relay.wsUrl);
});
