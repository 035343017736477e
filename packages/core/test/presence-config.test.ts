// The relay's `presence` config keys: defaults unchanged, overrides, strict validation with the
// key's path, and the cross-key rule (a batch at least twice per heartbeat).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, FpsError, PRESENCE_DEFAULTS, resolveRelayConfig } from '@fastpubsub/core';

const base = { masterToken: 'test-master-token-0123456789abcdef' };

function refusal(presence: unknown): string {
  try {
    resolveRelayConfig({ ...base, presence });
  } catch (err) {
    assert.ok(err instanceof FpsError);
    assert.equal(err.code, ErrorCode.ConfigInvalid);
    return err.message;
  }
  assert.fail('config was accepted');
}

test('presence defaults: 50 ms batches, 1 s heartbeat, 1.75 heartbeats to dead, threshold 1,000, 1 KB data', () => {
  const c = resolveRelayConfig(base);
  assert.deepEqual(c.presence, { batchIntervalMs: 50, heartbeatMs: 1000, deadAfterHeartbeats: 1.75, eventThreshold: 1000, maxMemberDataBytes: 1024 });
  assert.deepEqual(c.presence, { ...PRESENCE_DEFAULTS });
});

test('presence keys override one at a time', () => {
  const c = resolveRelayConfig({ ...base, presence: { heartbeatMs: 400, eventThreshold: 50_000 } });
  assert.equal(c.presence.heartbeatMs, 400);
  assert.equal(c.presence.eventThreshold, 50_000);
  assert.equal(c.presence.batchIntervalMs, 50);
  assert.equal(c.presence.maxMemberDataBytes, 1024);
});

test('bad presence values are refused with their path', () => {
  assert.match(refusal({ heartbeatMs: 50 }), /presence\.heartbeatMs/);
  assert.match(refusal({ batchIntervalMs: 0 }), /presence\.batchIntervalMs/);
  assert.match(refusal({ deadAfterHeartbeats: 1 }), /presence\.deadAfterHeartbeats/);
  assert.match(refusal({ eventThreshold: 1.5 }), /presence\.eventThreshold/);
  assert.match(refusal({ maxMemberDataBytes: 5000 }), /presence\.maxMemberDataBytes/);
  assert.match(refusal({ heartbeatMS: 1000 }), /heartbeatMS/);
  assert.match(refusal({ batchIntervalMs: 600, heartbeatMs: 1000 }), /batchIntervalMs \(600\) must be at most half of presence\.heartbeatMs \(1000\)/);
});
