// Signed tickets: signed by the control plane with jose, verified at a PoP with node:crypto
// (packages/relay/src/auth/signed), synchronously and with the clock injected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactSign, importJWK, type JWK, type KeyLike } from 'jose';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import type { TicketClaims } from '@fastpubsub/protocol';
import { SignedTicketState } from '@fastpubsub/testkit/relay';
import { newKeyRecord, publishedKeys, signTicket } from '../src/keys.js';

const ctx = { ip: '10.1.2.3', region: 'EU' };
const NOW = Date.UTC(2026, 0, 1);

function claims(over: Partial<TicketClaims> = {}, right: Partial<TicketClaims['right']> = {}): TicketClaims {
  return {
    jti: 'a'.repeat(32),
    iat: NOW / 1000,
    exp: NOW / 1000 + 3600,
    exp_ms: NOW + 3600_000,
    right: {
      tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['a.#'], allow_channels_sub: ['a.#'] }],
      allow_ip_masks: [],
      allow_regions: [],
      allowed_ws_origin: [],
      ...right,
    },
    ...over,
  };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FpsError, String(err));
    return err.code;
  }
  return 'ok';
}

test('a ticket signed with a published key is admitted with its grants; everything else is unauthorized', async () => {
  const key = await newKeyRecord(NOW);
  const other = await newKeyRecord(NOW);
  const state = new SignedTicketState();
  state.apply({ type: 'snapshot', state: { rev: 1, keys: [key.publicJwk], revoked: [], expiry: [], limits: {}, overQuota: [] } });
  const c = claims();
  const token = `AT_${c.jti}_${await signTicket(key, c)}`;
  assert.match(token, /^AT_[a-f0-9]+_[A-Za-z0-9_.-]+$/, 'only HTTP token characters');
  const t = state.check(token, ctx, NOW);
  assert.equal(t.tokenId, c.jti);
  assert.equal(t.canPublish('t1', 'a.b'), true);
  assert.equal(t.canPublish('t2', 'a.b'), false);
  assert.equal(t.canSubscribe('t1', 'a.*'), true);
  assert.equal(t.canSubscribe('t1', '#'), false);
  assert.deepEqual(t.tenants, ['t1']);

  // Unknown key, id mismatch, tampered payload, alg none, garbage: all 401 unauthorized.
  const byOther = `AT_${c.jti}_${await signTicket(other, c)}`;
  assert.equal(code(() => state.check(byOther, ctx, NOW)), ErrorCode.Unauthorized);
  assert.equal(code(() => state.check(`AT_${'b'.repeat(32)}_${token.split('_')[2]}`, ctx, NOW)), ErrorCode.Unauthorized);
  const [h, , sig] = token.split('_')[2]!.split('.');
  const evil = Buffer.from(JSON.stringify(claims({}, { tenant_grants: [{ tenant_ids: ['t2'], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }] }))).toString('base64url');
  assert.equal(code(() => state.check(`AT_${c.jti}_${h}.${evil}.${sig}`, ctx, NOW)), ErrorCode.Unauthorized);
  const none = Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url');
  assert.equal(code(() => state.check(`AT_${c.jti}_${none}.${evil}.`, ctx, NOW)), ErrorCode.Unauthorized);
  assert.equal(code(() => state.check(`AT_${c.jti}_x.y.z`, ctx, NOW)), ErrorCode.Unauthorized);
  assert.equal(code(() => state.check(undefined, ctx, NOW)), ErrorCode.Unauthorized);
  // A valid signature over a malformed payload (generic jose signer) is refused too.
  const odd = await new CompactSign(new TextEncoder().encode('{"jti":"' + c.jti + '"}')).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).sign(await importPriv(key.privateJwk));
  assert.equal(code(() => state.check(`AT_${c.jti}_${odd}`, ctx, NOW)), ErrorCode.Unauthorized);
});

function importPriv(jwk: Record<string, unknown>): Promise<Uint8Array | KeyLike> {
  return importJWK(jwk as unknown as JWK, 'EdDSA');
}

test('revocation, expiry and refresh overrides, restrictions, key withdrawal', async () => {
  const key = await newKeyRecord(NOW);
  const state = new SignedTicketState();
  const revokedSeen: string[] = [];
  state.onRevoked((id) => revokedSeen.push(id));
  state.apply({ type: 'snapshot', state: { rev: 1, keys: [key.publicJwk], revoked: [], expiry: [], limits: {}, overQuota: [] } });
  const c = claims();
  const token = `AT_${c.jti}_${await signTicket(key, c)}`;
  const ticket = state.check(token, ctx, NOW);
  assert.equal(code(() => state.check(token, ctx, c.exp_ms)), ErrorCode.TokenExpired);
  assert.equal(ticket.isExpired(c.exp_ms), true);
  state.apply({ type: 'expiry', rev: 2, id: c.jti, exp_ms: c.exp_ms + 60_000 });
  assert.equal(code(() => state.check(token, ctx, c.exp_ms)), 'ok');
  assert.equal(ticket.isExpired(c.exp_ms), false, 'a refresh extends an open connection too');
  state.apply({ type: 'revoked', rev: 3, id: c.jti, exp_ms: c.exp_ms + 60_000 });
  assert.equal(code(() => state.check(token, ctx, NOW)), ErrorCode.TokenRevoked);
  assert.deepEqual(revokedSeen, [c.jti]);
  // Entries leave only by pruning, once the token has expired anyway.
  state.prune(c.exp_ms + 120_000);
  assert.equal(state.isRevoked(c.jti), false);

  const r = claims({ jti: 'c'.repeat(32) }, { allow_ip_masks: ['192.168.0.0/16'], allow_regions: ['US'] });
  const restricted = `AT_${r.jti}_${await signTicket(key, r)}`;
  assert.equal(code(() => state.check(restricted, ctx, NOW)), ErrorCode.Forbidden);
  assert.equal(code(() => state.check(restricted, { ip: '192.168.1.1', region: 'US' }, NOW)), 'ok');

  state.apply({ type: 'keys', rev: 4, keys: [] });
  assert.equal(code(() => state.check(restricted, { ip: '192.168.1.1', region: 'US' }, NOW)), ErrorCode.Unauthorized, 'cached verification does not outlive its key');
});

test('published keys: active ones, and retired ones until their last token expires', async () => {
  const a = { ...(await newKeyRecord(NOW)), active: false, maxExpiryMs: NOW + 1000 };
  const b = await newKeyRecord(NOW + 1);
  assert.deepEqual(publishedKeys([a, b], NOW).map((k) => k.kid), [a.kid, b.kid]);
  assert.deepEqual(publishedKeys([a, b], NOW + 1000 + 60_001).map((k) => k.kid), [b.kid]);
});
