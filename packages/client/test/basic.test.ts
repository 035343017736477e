import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, latest, ClientError, type Message } from '../src/node.js';
import { makeToken, startTestRelay, text, waitFor } from './helpers.js';

test('publish/subscribe round trip: iterator, callback, stats, rtt, states', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const states: string[] = [];
  const client = await connect({ endpoint: r.relay.httpUrl, token, ping: { intervalMs: 50, timeoutMs: 2000 } });
  client.on('state', (e) => states.push(e.state));
  assert.equal(client.state, 'connected');
  const sub = await client.subscribe('t1', 'a.#');
  const got: Message[] = [];
  const cbSub = await client.subscribe('t1', 'a.b.*', { onMessage: (m) => got.push(m) });
  client.publish('t1', 'a.b.c', 'hello');
  client.publish('t1', 'a.x', new Uint8Array([1, 2, 3]));
  const it = sub[Symbol.asyncIterator]();
  const m1 = await it.next();
  assert.equal(m1.done, false);
  assert.equal(text(m1.value.payload), 'hello');
  assert.equal(m1.value.channel, 'a.b.c');
  assert.equal(m1.value.pattern, 'a.#');
  const m2 = await it.next();
  assert.deepEqual([...(m2.value as Message).payload], [1, 2, 3]);
  await waitFor(() => got.length === 1, 2000, 'callback delivery');
  assert.equal(got[0]!.pattern, 'a.b.*');
  await waitFor(() => client.rttMs !== undefined, 2000, 'rtt');
  assert.ok(client.rttMs! >= 0);
  await cbSub.unsubscribe();
  client.publish('t1', 'a.b.d', 'two');
  const m3 = await it.next();
  assert.equal(text((m3.value as Message).payload), 'two');
  assert.equal(got.length, 1);
  assert.equal(client.stats.published, 3);
  await client.close();
  assert.equal(await client.closed(), undefined);
  assert.deepEqual(states, ['closed']);
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

test('bad arguments, denied subscriptions and bad tokens are typed errors', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl, { sub: ['a.#'] });
  await assert.rejects(connect({ endpoint: r.relay.httpUrl, token: 'AT_00_11' }), (e: unknown) => e instanceof ClientError && e.code === 'unauthorized');
  const client = await connect({ endpoint: r.relay.httpUrl, token });
  t.after(() => client.close());
  assert.throws(() => client.publish('t1', 'a.*', 'x'), (e: unknown) => e instanceof ClientError && e.code === 'bad_argument');
  await assert.rejects(client.subscribe('t1', ''), (e: unknown) => e instanceof ClientError && e.code === 'bad_argument');
  await assert.rejects(client.subscribe('t1', 'b.#'), (e: unknown) => e instanceof ClientError && e.serverCode === 'permission_denied');
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(client.subscribe('t1', 'a.#', { signal: ac.signal }), (e: unknown) => e instanceof ClientError && e.code === 'aborted');
});

test('per-subscription bounded buffer counts drops; latest() keeps the newest', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await connect({ endpoint: r.relay.httpUrl, token });
  t.after(() => client.close());
  const slow = await client.subscribe('t1', 'g.#', { bufferSize: 5 });
  const newest = latest(await client.subscribe('t1', 'g.pos'));
  for (let i = 0; i < 20; i++) client.publish('t1', 'g.pos', String(i));
  await waitFor(() => slow.stats.received === 20, 3000, '20 deliveries');
  assert.equal(slow.stats.dropped, 15);
  assert.equal(slow.stats.buffered, 5);
  const first = await slow[Symbol.asyncIterator]().next();
  assert.equal(text((first.value as Message).payload), '15'); // drop-oldest kept the last five
  await waitFor(() => newest.subscription.stats.received === 20, 3000, 'latest deliveries');
  assert.equal(text(newest.take()!.payload), '19');
  assert.equal(newest.take(), undefined);
  assert.equal(newest.subscription.stats.dropped, 19);
  const next = newest.next();
  client.publish('t1', 'g.pos', 'later');
  assert.equal(text((await next).payload), 'later');
});
