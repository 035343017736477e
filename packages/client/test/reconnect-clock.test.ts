// The SDK's reconnect, backoff, token refresh and heartbeat driven end to end through the client
// core on a fake clock, over an in-memory transport: exact delays, no sleeping, no sockets. The
// same behaviours over real sockets are in resilience.test.ts (WebSocket and QUIC).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@fastpubsub/testkit';
import { connect, ClientError, type Client, type ClientEvents } from '../src/index.js';
import type { OpenParams, Transport, TransportConnection, TransportEvents } from '../src/transport.js';

/** Lets promise callbacks run (transport opens, confirmations, the reconnect loop's steps). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

class MemoryConnection implements TransportConnection {
  readonly subs: string[] = [];
  pings = 0;
  answerPings = true;
  closed = false;
  bufferedAmount = 0;
  constructor(
    readonly token: string,
    readonly events: TransportEvents,
  ) {}
  subscribe(tenant: string, pattern: string): void {
    this.subs.push(`${tenant}:${pattern}`);
    queueMicrotask(() => this.events.onSubscribed(tenant, pattern));
  }
  unsubscribe(): void {}
  publish(): void {}
  ping(): void {
    this.pings++;
    if (this.answerPings) queueMicrotask(() => this.events.onPong());
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.events.onClose(undefined);
  }
  /** The edge goes away: the client sees the connection fail. */
  drop(): void {
    this.closed = true;
    this.events.onClose(new ClientError('connect_failed', 'connection lost'));
  }
}

/** Opens succeed or fail as the test says; records every attempt with the time it happened. */
class MemoryTransport implements Transport {
  readonly name = 'memory';
  readonly opened: MemoryConnection[] = [];
  readonly attempts: { at: number; token: string }[] = [];
  /** The next opens fail with these errors, in order; then opens succeed. */
  failures: ClientError[] = [];
  constructor(private readonly clock: FakeClock) {}
  open(p: OpenParams): Promise<TransportConnection> {
    this.attempts.push({ at: this.clock.now(), token: p.token });
    const failure = this.failures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    const c = new MemoryConnection(p.token, p.events);
    this.opened.push(c);
    return Promise.resolve(c);
  }
  get last(): MemoryConnection {
    const c = this.opened.at(-1);
    assert.ok(c !== undefined, 'a connection was opened');
    return c;
  }
}

const lost = (): ClientError => new ClientError('connect_failed', 'edge unreachable');

async function setup(options: Partial<Parameters<typeof connect>[0]> = {}): Promise<{ clock: FakeClock; transport: MemoryTransport; client: Client; retries: ClientEvents['reconnecting'][] }> {
  const clock = new FakeClock();
  const transport = new MemoryTransport(clock);
  const pending = connect({ endpoint: 'http://edge.test:7700', token: 'tok-1', transport, clock, ping: false, ...options });
  await settle();
  const client = await pending;
  const retries: ClientEvents['reconnecting'][] = [];
  client.on('reconnecting', (e) => retries.push(e));
  return { clock, transport, client, retries };
}

test('a lost connection reconnects after the jittered backoff, not before, and restores subscriptions', async (t) => {
  const { clock, transport, client, retries } = await setup({ reconnect: { baseDelayMs: 400, maxDelayMs: 10_000 } });
  t.after(() => client.close());
  await client.subscribe('t1', 'a.#');
  await client.subscribe('t1', 'b.*');
  transport.failures = [lost()];
  transport.last.drop();
  await settle();
  assert.equal(client.state, 'reconnecting');
  // The first reopen fails at once, then the loop backs off: attempt 1's delay is in [0, 400).
  assert.equal(transport.attempts.length, 2);
  assert.equal(retries.length, 1);
  const delay = retries[0]!.delayMs;
  assert.ok(delay >= 0 && delay < 400, `attempt 1 delay ${delay}`);
  if (delay > 0) {
    clock.advance(delay - 1);
    await settle();
    assert.equal(transport.attempts.length, 2, 'nothing opened before the delay ran out');
  }
  clock.advance(1);
  await settle();
  assert.equal(transport.attempts.length, 3);
  assert.equal(transport.attempts[2]!.at, delay);
  assert.equal(client.state, 'connected');
  assert.deepEqual(transport.last.subs, ['t1:a.#', 't1:b.*']);
  assert.equal(client.stats.reconnects, 1);
});

test('backoff caps double per attempt up to maxDelayMs; maxAttempts ends the client with the last error', async (t) => {
  const { clock, transport, client, retries } = await setup({ reconnect: { baseDelayMs: 100, maxDelayMs: 800, maxAttempts: 6 } });
  t.after(() => client.close());
  transport.failures = Array.from({ length: 10 }, lost);
  const closed = client.closed();
  transport.last.drop();
  for (let i = 0; i < 10 && client.state !== 'closed'; i++) {
    await settle();
    const r = retries.at(-1);
    if (r !== undefined) clock.advance(r.delayMs);
  }
  await settle();
  const caps = [100, 200, 400, 800, 800];
  assert.deepEqual(retries.map((r) => r.attempt), [1, 2, 3, 4, 5]);
  retries.forEach((r, i) => assert.ok(r.delayMs < caps[i]!, `attempt ${r.attempt}: ${r.delayMs} < ${caps[i]}`));
  // Each reopen happened exactly its backoff after the previous failure.
  for (let i = 2; i < transport.attempts.length; i++) {
    assert.equal(transport.attempts[i]!.at - transport.attempts[i - 1]!.at, retries[i - 2]!.delayMs);
  }
  assert.equal(client.state, 'closed');
  const e = await closed;
  assert.ok(e instanceof ClientError && e.code === 'connect_failed', `closed with ${String(e)}`);
});

test('a refusal on reopen asks the token provider once; a second refusal ends the client', async (t) => {
  const reasons: string[] = [];
  const { transport, client } = await setup({
    tokenProvider: () => {
      reasons.push('asked');
      return Promise.resolve(`tok-${reasons.length + 1}`);
    },
  });
  t.after(() => client.close());
  transport.failures = [new ClientError('unauthorized', 'refused (401)')];
  transport.last.drop();
  await settle();
  assert.equal(reasons.length, 1);
  assert.equal(client.state, 'reconnecting');

  const { transport: t2, client: c2, clock: k2, retries: r2 } = await setup({ tokenProvider: () => Promise.resolve('tok-x') });
  t.after(() => c2.close());
  t2.failures = [new ClientError('unauthorized', 'refused (401)'), new ClientError('unauthorized', 'refused again (401)')];
  const closed = c2.closed();
  t2.last.drop();
  await settle();
  k2.advance(r2.at(-1)?.delayMs ?? 0);
  await settle();
  const e = await closed;
  assert.ok(e instanceof ClientError && e.code === 'unauthorized', `closed with ${String(e)}`);
  assert.deepEqual(t2.attempts.map((a) => a.token), ['tok-1', 'tok-1', 'tok-x']);
});

test('token refresh before expiry: make-before-break with the new token; the old connection closes after overlapMs', async (t) => {
  const clock0 = new FakeClock();
  const expiresAt = clock0.wallNow() + 60_000;
  const { clock, transport, client } = await setup({
    tokenExpiresAt: expiresAt,
    tokenRefreshMarginMs: 10_000,
    tokenProvider: () => Promise.resolve({ token: 'tok-2', expiresAt: expiresAt + 3_600_000 }),
    reconnect: { overlapMs: 2000 },
  });
  t.after(() => client.close());
  await client.subscribe('t1', 'x');
  const first = transport.last;
  clock.advance(49_999);
  await settle();
  assert.equal(transport.opened.length, 1, 'no refresh before expiry − margin');
  clock.advance(1);
  await settle();
  assert.equal(transport.opened.length, 2);
  const second = transport.last;
  assert.equal(second.token, 'tok-2');
  assert.deepEqual(second.subs, ['t1:x']);
  assert.equal(first.closed, false, 'the old connection overlaps the new one');
  clock.advance(1999);
  assert.equal(first.closed, false);
  clock.advance(1);
  assert.equal(first.closed, true);
  assert.equal(second.closed, false);
});

test('heartbeat: no PONG within timeoutMs drops the connection and reconnects', async (t) => {
  const { clock, transport, client, retries } = await setup({ ping: { intervalMs: 1000, timeoutMs: 3000 }, reconnect: { baseDelayMs: 100 } });
  t.after(() => client.close());
  const first = transport.last;
  clock.advance(0);
  await settle();
  assert.equal(first.pings, 1, 'first PING at once');
  clock.advance(1000);
  await settle();
  assert.equal(first.pings, 2, 'then one per interval while PONGs come');
  first.answerPings = false;
  clock.advance(1000);
  await settle();
  assert.equal(first.pings, 3);
  clock.advance(2999);
  await settle();
  assert.equal(client.state, 'connected');
  clock.advance(1);
  await settle();
  assert.equal(first.closed, true, 'the silent connection was given up');
  assert.equal(retries.length, 0, 'the first reopen needs no backoff');
  assert.equal(transport.opened.length, 2, 'reconnected at once');
  assert.equal(client.state, 'connected');
});
