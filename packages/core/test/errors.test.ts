import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, FpsError, httpStatusFor, isFpsError, createLogger } from '@fastpubsub/core';

test('FpsError carries a stable code and maps to HTTP status', () => {
  const err = new FpsError(ErrorCode.TokenRevoked, 'token was revoked');
  assert.equal(err.code, 'token_revoked');
  assert.ok(isFpsError(err));
  assert.equal(httpStatusFor(err.code), 401);
  assert.equal(httpStatusFor(ErrorCode.Forbidden), 403);
  assert.equal(httpStatusFor(ErrorCode.BadRequest), 400);
});

test('logger writes one JSON line per record and filters by level', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', write: (l) => lines.push(l), now: () => 0 });
  log.debug('hidden');
  log.child({ conn: 7 }).warn('slow', { err: new FpsError(ErrorCode.SlowConsumer, 'queue full') });
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(rec.msg, 'slow');
  assert.equal(rec.conn, 7);
  assert.deepEqual(rec.err, { name: 'FpsError', message: 'queue full', code: 'slow_consumer' });
});
