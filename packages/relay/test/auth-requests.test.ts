import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import {
  parseAccessToken,
  parseGetTokenRequest,
  parseRefreshTokenRequest,
  parseRevokeTokenRequest,
  parseRfc3339,
} from '../src/auth/index.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const HOUR = 3_600_000;

function body(over: Record<string, unknown> = {}, right: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    right: {
      tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['a.#'], allow_channels_sub: ['a.#', 'x'] }],
      allow_ip_masks: [],
      allow_regions: [],
      allowed_ws_origin: [],
      expires_at: iso(NOW + HOUR),
      ...right,
    },
    created_by: 'ops',
    description: 'test',
    ...over,
  };
}

function badRequest(fn: () => unknown, msg: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof FpsError && e.code === ErrorCode.BadRequest && msg.test(e.message));
}

describe('parseAccessToken', () => {
  it('splits at the first underscore after AT_', () => {
    assert.deepEqual(parseAccessToken('AT_abc_def'), { id: 'abc', secret: 'def' });
    assert.deepEqual(parseAccessToken('AT_abc_d_e_f'), { id: 'abc', secret: 'd_e_f' });
  });
  for (const t of ['', 'AT_', 'AT__x', 'AT_abc_', 'AT_abc', 'at_abc_def', 'XAT_a_b', 'abc_def']) {
    it(`rejects ${JSON.stringify(t)}`, () => assert.equal(parseAccessToken(t), undefined));
  }
});

describe('parseRfc3339', () => {
  it('accepts Z, offsets and fractional seconds', () => {
    assert.equal(parseRfc3339('2025-01-15T12:00:00Z'), NOW);
    assert.equal(parseRfc3339('2025-01-15t12:00:00z'), NOW);
    assert.equal(parseRfc3339('2025-01-15T14:30:00+02:30'), NOW);
    assert.equal(parseRfc3339('2025-01-15T07:00:00-05:00'), NOW);
    assert.equal(parseRfc3339('2025-01-15T12:00:00.5Z'), NOW + 500);
    assert.equal(parseRfc3339('2025-01-15T12:00:00.123456789Z'), NOW + 123);
    assert.equal(parseRfc3339('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
    assert.equal(parseRfc3339('0050-01-01T00:00:00Z'), Date.parse('0050-01-01T00:00:00Z'));
  });
  for (const t of [
    '2025-01-15', '2025-01-15T12:00:00', '2025-01-15T12:00Z', '2025-13-01T00:00:00Z', '2025-02-29T00:00:00Z',
    '2025-01-15T24:00:00Z', '2025-01-15T12:00:00+0200', '2025-01-15T12:00:00.Z', ' 2025-01-15T12:00:00Z',
    'tomorrow', '1736942400',
  ]) {
    it(`rejects ${JSON.stringify(t)}`, () => assert.equal(parseRfc3339(t), undefined));
  }
});

describe('parseGetTokenRequest', () => {
  it('accepts a valid body, normalizes it and ignores extra fields', () => {
    const req = parseGetTokenRequest(body({ extra: 1 }, { extra: 2, allow_ip_masks: ['10.0.0.0/8', '::1'] }), NOW);
    assert.equal(req.createdBy, 'ops');
    assert.equal(req.description, 'test');
    assert.equal(req.expiresAtMs, NOW + HOUR);
    assert.deepEqual(Object.keys(req.right).sort(), [
      'allow_ip_masks', 'allow_regions', 'allowed_ws_origin', 'egress_kb_per_sec', 'expires_at', 'ingress_kb_per_sec', 'tenant_grants',
    ]);
    // Contract §11.7: omitted rates are stored as the default applied at mint time.
    assert.equal(req.right.ingress_kb_per_sec, 16384);
    assert.deepEqual(req.defaultedRates, ['ingress_kb_per_sec', 'egress_kb_per_sec']);
  });

  it('accepts 24 h ahead plus the 60 s skew, with an offset', () => {
    const at = new Date(NOW + 24 * HOUR + 59_000 + 2 * HOUR).toISOString().replace('Z', '+02:00');
    assert.equal(parseGetTokenRequest(body({}, { expires_at: at }), NOW).expiresAtMs, NOW + 24 * HOUR + 59_000);
  });

  it('rejects 25 h ahead (check 19), the past, and malformed expiry', () => {
    badRequest(() => parseGetTokenRequest(body({}, { expires_at: iso(NOW + 25 * HOUR) }), NOW), /ahead/);
    badRequest(() => parseGetTokenRequest(body({}, { expires_at: iso(NOW + 24 * HOUR + 61_000) }), NOW), /ahead/);
    badRequest(() => parseGetTokenRequest(body({}, { expires_at: iso(NOW - 1) }), NOW), /past/);
    badRequest(() => parseGetTokenRequest(body({}, { expires_at: 'soon' }), NOW), /RFC 3339/);
    badRequest(() => parseGetTokenRequest(body({}, { expires_at: undefined }), NOW), /expires_at/);
  });

  it('requires created_by, a right and at least one grant', () => {
    badRequest(() => parseGetTokenRequest(body({ created_by: undefined }), NOW), /created_by/);
    badRequest(() => parseGetTokenRequest(body({ created_by: '  ' }), NOW), /created_by/);
    badRequest(() => parseGetTokenRequest(body({ right: undefined }), NOW), /right/);
    badRequest(() => parseGetTokenRequest(body({}, { tenant_grants: [] }), NOW), /tenant_grants/);
    badRequest(() => parseGetTokenRequest('{}', NOW), /object/);
    badRequest(() => parseGetTokenRequest(null, NOW), /object/);
  });

  it('validates tenants, rules and masks', () => {
    const grant = (g: Record<string, unknown>): Record<string, unknown> =>
      body({}, { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: [], allow_channels_sub: [], ...g }] });
    badRequest(() => parseGetTokenRequest(grant({ tenant_ids: [] }), NOW), /tenant_ids/);
    badRequest(() => parseGetTokenRequest(grant({ tenant_ids: ['bad tenant'] }), NOW), /tenant_ids\[0\]/);
    badRequest(() => parseGetTokenRequest(grant({ tenant_ids: ['x'.repeat(129)] }), NOW), /tenant_ids/);
    badRequest(() => parseGetTokenRequest(grant({ allow_channels_pub: ['a.*'] }), NOW), /allow_channels_pub/);
    badRequest(() => parseGetTokenRequest(grant({ allow_channels_sub: ['a.>'] }), NOW), /allow_channels_sub/);
    badRequest(() => parseGetTokenRequest(grant({ allow_channels_sub: ['a..b'] }), NOW), /allow_channels_sub/);
    badRequest(() => parseGetTokenRequest(grant({ allow_channels_sub: 'a.#' }), NOW), /array/);
    badRequest(() => parseGetTokenRequest(body({}, { allow_ip_masks: ['10.0.0.0/33'] }), NOW), /allow_ip_masks/);
    badRequest(() => parseGetTokenRequest(body({}, { allow_ip_masks: ['nope'] }), NOW), /allow_ip_masks/);
    const ok = parseGetTokenRequest(grant({ tenant_ids: ['a-b_c~d@e.f'], allow_channels_sub: ['#', 'x.y.#', 'x.y'] }), NOW);
    assert.deepEqual(ok.right.tenant_grants[0]?.allow_channels_sub, ['#', 'x.y.#', 'x.y']);
  });

  it('treats absent restriction lists as empty', () => {
    const b = body();
    const right = b['right'] as Record<string, unknown>;
    delete right['allow_ip_masks'];
    delete right['allow_regions'];
    delete right['allowed_ws_origin'];
    const req = parseGetTokenRequest(b, NOW);
    assert.deepEqual([req.right.allow_ip_masks, req.right.allow_regions, req.right.allowed_ws_origin], [[], [], []]);
  });
});

describe('refresh and revoke bodies', () => {
  it('refresh takes token_id (or a whole token) and a bounded expiry', () => {
    assert.deepEqual(parseRefreshTokenRequest({ token_id: 'abc', expires_at: iso(NOW + HOUR) }, NOW), {
      tokenId: 'abc',
      expiresAt: iso(NOW + HOUR),
      expiresAtMs: NOW + HOUR,
    });
    assert.equal(parseRefreshTokenRequest({ token_id: 'AT_abc_s', expires_at: iso(NOW + HOUR) }, NOW).tokenId, 'abc');
    badRequest(() => parseRefreshTokenRequest({ expires_at: iso(NOW + HOUR) }, NOW), /token_id/);
    badRequest(() => parseRefreshTokenRequest({ token_id: 'abc', expires_at: iso(NOW + 25 * HOUR) }, NOW), /ahead/);
  });

  it('revoke takes a whole AT_ token', () => {
    assert.deepEqual(parseRevokeTokenRequest({ token: 'AT_i_s' }), { token: 'AT_i_s', id: 'i', secret: 's' });
    badRequest(() => parseRevokeTokenRequest({ token: 'i' }), /access token/);
    badRequest(() => parseRevokeTokenRequest({}), /token is required/);
  });
});
