import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, FpsError, httpStatusFor, isFpsError, createLogger } from '@fastpubsub/core';

// The codes are public contract (clients switch on them; only additions are allowed): this
// table pins every one, its wire text and its HTTP status. A renamed or remapped code fails here.
const TABLE: ReadonlyArray<readonly [keyof typeof ErrorCode, string, number]> = [
  ['PermissionDenied', 'permission_denied', 403],
  ['BadFrame', 'bad_frame', 400],
  ['BadCommand', 'bad_command', 400],
  ['InvalidPattern', 'invalid_pattern', 400],
  ['InvalidName', 'invalid_name', 400],
  ['PayloadTooLarge', 'payload_too_large', 413],
  ['RateLimited', 'rate_limited', 429],
  ['TooManySubscriptions', 'too_many_subscriptions', 400],
  ['PatternTooComplex', 'pattern_too_complex', 400],
  ['Unauthorized', 'unauthorized', 401],
  ['TokenExpired', 'token_expired', 401],
  ['TokenRevoked', 'token_revoked', 401],
  ['Forbidden', 'forbidden', 403],
  ['SlowConsumer', 'slow_consumer', 400],
  ['ConfigInvalid', 'config_invalid', 400],
  ['StoreUnavailable', 'store_unavailable', 503],
  ['NotFound', 'not_found', 404],
  ['Conflict', 'conflict', 409],
  ['BadRequest', 'bad_request', 400],
  ['UnsupportedMediaType', 'unsupported_media_type', 415],
  ['ShuttingDown', 'shutting_down', 503],
  ['SignatureInvalid', 'signature_invalid', 401],
  ['Internal', 'internal', 500],
];

test('every error code: its stable text and its HTTP status', () => {
  assert.deepEqual(Object.keys(ErrorCode).sort(), TABLE.map(([name]) => name).sort(), 'the table lists every code');
  for (const [name, text, status] of TABLE) {
    assert.equal(ErrorCode[name], text, name);
    assert.equal(httpStatusFor(ErrorCode[name]), status, name);
  }
});

test('FpsError carries its code and detail and is recognised', () => {
  const err = new FpsError(ErrorCode.TokenRevoked, 'token was revoked', { detail: 'id 7' });
  assert.equal(err.code, 'token_revoked');
  assert.equal(err.detail, 'id 7');
  assert.ok(isFpsError(err));
  assert.ok(!isFpsError(new Error('token_revoked')));
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
