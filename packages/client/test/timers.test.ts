// The SDK's heartbeat and token keeper on a fake clock: exact times, no sleeping. The
// real-socket behaviour (ping over a live connection, refresh with a live relay) is covered by
// resilience.test.ts (every transport); reconnect and backoff on a fake clock are in reconnect-clock.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@fastpubsub/testkit';
import { Heartbeat } from '../src/heartbeat.js';
import { TokenKeeper } from '../src/token-keeper.js';
import type { ClientError } from '../src/errors.js';
import type { TokenReason } from '../src/options.js';

/** Lets promise callbacks (the provider's resolution and what follows it) run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('Heartbeat (fake clock)', () => {
  it('pings after the delay, measures the round trip, pings again one interval later', () => {
    const clock = new FakeClock();
    const pings: number[] = [];
    const hb = new Heartbeat({ intervalMs: 5000, timeoutMs: 10_000 }, () => (pings.push(clock.now()), true), () => assert.fail('no timeout'), clock);
    hb.schedule(0);
    clock.advance(0);
    assert.deepEqual(pings, [0]);
    clock.advance(42);
    assert.equal(hb.pong(), 42);
    assert.equal(hb.pong(), undefined, 'a second PONG for the same PING is ignored');
    hb.schedule();
    clock.advance(4999);
    assert.deepEqual(pings, [0]);
    clock.advance(1);
    assert.deepEqual(pings, [0, 5042]);
    hb.stop();
    assert.equal(clock.pending, 0, 'stop clears every timer');
  });

  it('no PONG within the timeout: onTimeout once, with a timeout error', () => {
    const clock = new FakeClock();
    const errors: ClientError[] = [];
    const hb = new Heartbeat({ intervalMs: 5000, timeoutMs: 10_000 }, () => true, (e) => errors.push(e), clock);
    hb.schedule(100);
    clock.advance(100 + 9999);
    assert.equal(errors.length, 0);
    clock.advance(1);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'timeout');
    clock.advance(60_000);
    assert.equal(errors.length, 1);
  });

  it('a connection no longer to be pinged arms no timeout', () => {
    const clock = new FakeClock();
    const hb = new Heartbeat({ intervalMs: 5000, timeoutMs: 100 }, () => false, () => assert.fail('no timeout'), clock);
    hb.schedule(0);
    clock.advance(1000);
    assert.equal(hb.pong(), undefined);
    assert.equal(clock.pending, 0);
  });
});

describe('TokenKeeper (fake clock)', () => {
  function keeper(clock: FakeClock, provider: (reason: TokenReason) => Promise<{ token: string; expiresAt: number }>) {
    const seen = { tokens: [] as TokenReason[], errors: [] as ClientError[], scheduled: 0 };
    const ac = new AbortController();
    const k = new TokenKeeper({
      token: undefined,
      expiresAt: undefined,
      provider: ({ reason }) => provider(reason),
      refreshMarginMs: 10_000,
      signal: ac.signal,
      onToken: (e) => seen.tokens.push(e.reason),
      onError: (e) => seen.errors.push(e),
      onScheduledRefresh: () => seen.scheduled++,
      clock,
    });
    return { k, seen, ac };
  }

  it('refreshes the margin before expiry, then again for the new token', async () => {
    const clock = new FakeClock();
    const asked: Array<[TokenReason, number]> = [];
    const { k, seen, ac } = keeper(clock, async (reason) => {
      asked.push([reason, clock.now()]);
      return { token: `t${asked.length}`, expiresAt: clock.wallNow() + 60_000 };
    });
    await k.refresh('initial');
    assert.equal(k.token, 't1');
    clock.advance(49_999);
    await settle();
    assert.equal(asked.length, 1);
    clock.advance(1);
    await settle();
    assert.deepEqual(asked, [['initial', 0], ['expiring', 50_000]]);
    assert.equal(k.token, 't2');
    assert.equal(seen.scheduled, 1);
    clock.advance(50_000);
    await settle();
    assert.deepEqual(asked.at(-1), ['expiring', 100_000]);
    assert.deepEqual(seen.tokens, ['initial', 'expiring', 'expiring']);
    ac.abort();
    k.stop();
  });

  it('a failed scheduled refresh is reported and re-armed 2 s later (then halfway to expiry)', async () => {
    const clock = new FakeClock();
    let fail = true;
    const asked: number[] = [];
    const { k, seen, ac } = keeper(clock, async () => {
      asked.push(clock.now());
      if (asked.length > 1 && fail) {
        fail = false;
        throw new Error('provider down');
      }
      return { token: 'x', expiresAt: clock.wallNow() + 30_000 };
    });
    await k.refresh('initial');
    clock.advance(20_000);
    await settle();
    assert.equal(seen.errors.length, 1);
    assert.equal(seen.errors[0]!.code, 'token_provider');
    // At 22 s the schedule is re-armed: 8 s left, so the margin is 4 s and the retry is at 26 s.
    clock.advance(5999);
    await settle();
    assert.equal(asked.length, 2);
    clock.advance(1);
    await settle();
    assert.deepEqual(asked, [0, 20_000, 26_000]);
    assert.equal(seen.errors.length, 1);
    ac.abort();
    k.stop();
  });

  it('concurrent refreshes share one provider call', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const { k, ac } = keeper(clock, async () => ({ token: `t${++calls}`, expiresAt: clock.wallNow() + 60_000 }));
    await Promise.all([k.refresh('unauthorized'), k.refresh('unauthorized'), k.refresh('expired')]);
    assert.equal(calls, 1);
    ac.abort();
    k.stop();
  });
});
