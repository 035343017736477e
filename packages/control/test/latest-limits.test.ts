// The tenant config's per-channel latest-mode default: accepted and stored by the control plane,
// refused with a clear error when malformed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLimits } from '../src/tenants.js';

test('limits: channel and channels accept delivery all|latest; anything else is refused by path', () => {
  assert.deepEqual(parseLimits({ channel: { delivery: 'latest' }, channels: { 'chat.x': { delivery: 'all', messagesPerSecond: 3 } } }), {
    channel: { delivery: 'latest' },
    channels: { 'chat.x': { delivery: 'all', messagesPerSecond: 3 } },
  });
  assert.throws(() => parseLimits({ channels: { 'pos.x': { delivery: 'newest' } } }), /channels\.pos\.x\.delivery must be 'all' or 'latest'/);
  assert.throws(() => parseLimits({ channel: { delivery: 1 } }), /channel\.delivery must be 'all' or 'latest'/);
});
