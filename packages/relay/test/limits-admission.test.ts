// Pure limits: token buckets and the Admission object, driven by an injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admission, TokenBucket } from '../src/limits/index.js';

test('token bucket: starts full, refills at the rate, never above the burst', () => {
  const b = new TokenBucket(10, 5, 0);
  for (let i = 0; i < 5; i++) assert.equal(b.take(1, 0), true);
  assert.equal(b.take(1, 0), false);
  assert.equal(b.take(1, 99), false); // 0.99 tokens
  assert.equal(b.take(1, 100), true);
  assert.equal(b.isFull(10_000), true);
  for (let i = 0; i < 5; i++) assert.equal(b.take(1, 10_000), true);
  assert.equal(b.take(1, 10_000), false);
  assert.equal(b.take(3, 10_300), true); // 3 tokens after 300 ms
});

test('admitPublish: per-tenant messages/s, other tenants unaffected, refusals counted', () => {
  const a = new Admission();
  a.setLimits('noisy', { messagesPerSecond: 100 }, 0);
  let ok = 0;
  for (let i = 0; i < 1000; i++) if (a.admitPublish('noisy', 'c', 10, 0) === 'ok') ok++;
  assert.equal(ok, 100, 'the burst is one second of the rate');
  for (let i = 0; i < 1000; i++) assert.equal(a.admitPublish('quiet', 'c', 10, 0), 'ok');
  assert.equal(a.refused.tenant, 900);
  // After 500 ms, 50 more.
  ok = 0;
  for (let i = 0; i < 100; i++) if (a.admitPublish('noisy', 'c', 10, 500) === 'ok') ok++;
  assert.equal(ok, 50);
});

test('admitPublish: bytes/s, per-channel default and override; a refusal at one level takes no tokens from the other', () => {
  const a = new Admission();
  a.setLimits('t', { bytesPerSecond: 1000, channel: { messagesPerSecond: 2 }, channels: { hot: { messagesPerSecond: 5 } } }, 0);
  assert.equal(a.admitPublish('t', 'a', 100, 0), 'ok');
  assert.equal(a.admitPublish('t', 'a', 100, 0), 'ok');
  assert.equal(a.admitPublish('t', 'a', 100, 0), 'rate_limited'); // channel a: 2/s
  assert.equal(a.refused.channel, 1);
  for (let i = 0; i < 5; i++) assert.equal(a.admitPublish('t', 'hot', 100, 0), 'ok');
  assert.equal(a.admitPublish('t', 'hot', 100, 0), 'rate_limited');
  // 700 bytes used of 1000: a 400-byte publish is refused by the tenant bucket, a 300 one is not.
  assert.equal(a.admitPublish('t', 'b', 400, 0), 'rate_limited');
  assert.equal(a.refused.tenant, 1);
  assert.equal(a.admitPublish('t', 'b', 300, 0), 'ok');
});

test('connections: per-tenant maximum, released on close; per-IP attempt rate', () => {
  const a = new Admission({ ipAttemptsPerSecond: 2, ipAttemptsBurst: 2 });
  a.setLimits('t', { maxConnections: 2 }, 0);
  assert.equal(a.openConnection(['t', 'u'], 0), 'ok');
  assert.equal(a.openConnection(['t'], 0), 'ok');
  assert.equal(a.openConnection(['t'], 0), 'rate_limited');
  assert.equal(a.connections('u'), 1, 'a refused connection counts against nobody');
  a.closeConnection(['t'], 10);
  assert.equal(a.openConnection(['t'], 10), 'ok');
  assert.equal(a.admitConnectionAttempt('1.2.3.4', 0), 'ok');
  assert.equal(a.admitConnectionAttempt('1.2.3.4', 0), 'ok');
  assert.equal(a.admitConnectionAttempt('1.2.3.4', 0), 'rate_limited');
  assert.equal(a.admitConnectionAttempt('5.6.7.8', 0), 'ok');
  assert.equal(a.admitConnectionAttempt('1.2.3.4', 500), 'ok');
  assert.equal(a.refused.ip, 1);
  assert.equal(a.refused.connections, 1);
});

test('usage: messages, bytes and connection-milliseconds per tenant; quota refuses publishes', () => {
  const a = new Admission();
  a.openConnection(['t'], 0);
  a.openConnection(['t'], 1000);
  a.admitPublish('t', 'c', 7, 1000);
  a.admitPublish('t', 'c', 3, 1000);
  a.closeConnection(['t'], 2000);
  const u = a.usage(3000);
  assert.deepEqual(u['t'], { messages: 2, bytes: 10, connectionMs: 1000 + 2 * 1000 + 1000 });
  a.setOverQuota(['t'], 3000);
  assert.equal(a.admitPublish('t', 'c', 1, 3000), 'rate_limited');
  assert.equal(a.refused.quota, 1);
  a.setOverQuota([], 3000);
  assert.equal(a.admitPublish('t', 'c', 1, 3000), 'ok');
});

test('memory stays bounded with many channels and IPs', () => {
  const a = new Admission({ maxBuckets: 100, ipAttemptsPerSecond: 1 });
  a.setLimits('t', { channel: { messagesPerSecond: 1 } }, 0);
  for (let i = 0; i < 10_000; i++) a.admitPublish('t', `c${i}`, 1, 0);
  for (let i = 0; i < 10_000; i++) a.admitConnectionAttempt(`10.0.${i >> 8}.${i & 255}`, 0);
  // No direct size accessor: a new channel still gets its own fresh bucket and is admitted.
  assert.equal(a.admitPublish('t', 'fresh', 1, 0), 'ok');
  assert.equal(a.admitPublish('t', 'fresh', 1, 0), 'rate_limited');
});
