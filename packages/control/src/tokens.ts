// Access tokens (contract §7: issue, refresh, revoke) and the signing keys that sign them.
import { ErrorCode, FpsError, type Logger } from '@fastpubsub/core';
import {
  formatAccessToken,
  parseGetTokenRequest,
  parseRefreshTokenRequest,
  parseRevokeTokenRequest,
  type RateDefaults,
  type TicketClaims,
} from '@fastpubsub/protocol';
import { newKeyRecord, signTicket, signingKey } from './keys.js';
import { bad, hashMatches, hex, sha256, type Principal, type ServiceContext } from './service-common.js';
import type { KeyRecord, RevokedRecord, TokenMeta } from './types.js';

export class Tokens {
  readonly #c: ServiceContext;
  /** Rates written into tickets that omit them (contract §11.7); undefined = the shipped default. */
  readonly #rateDefaults: RateDefaults | undefined;
  readonly #logger: Logger | undefined;

  constructor(c: ServiceContext, o: { rateDefaults?: RateDefaults | undefined; logger?: Logger | undefined } = {}) {
    this.#c = c;
    this.#rateDefaults = o.rateDefaults;
    this.#logger = o.logger;
  }

  /** Creates the first signing key if there is none (racing instances may both create one: harmless). */
  async ensureSigningKey(): Promise<void> {
    if (signingKey(this.#c.hub.keys()) !== undefined) return;
    const k = await newKeyRecord(this.#c.now());
    await this.#c.store.put('key', k.kid, k);
    await this.#c.hub.resync();
  }

  async issueToken(who: Principal, body: unknown): Promise<{ token: string }> {
    const now = this.#c.now();
    const req = parseGetTokenRequest(body, now, this.#rateDefaults === undefined ? {} : { rateDefaults: this.#rateDefaults });
    const tenants = [...new Set(req.right.tenant_grants.flatMap((g) => g.tenant_ids))];
    this.#authorizeTenants(who, tenants);
    const key = signingKey(this.#c.hub.keys());
    if (key === undefined) throw new FpsError(ErrorCode.StoreUnavailable, 'no signing key is available yet');
    const id = hex(16);
    const { expires_at: _e, ...right } = req.right;
    const claims: TicketClaims = {
      jti: id,
      iat: Math.floor(now / 1000),
      exp: Math.ceil(req.expiresAtMs / 1000),
      exp_ms: req.expiresAtMs,
      right,
    };
    const jws = await signTicket(key, claims);
    const meta: TokenMeta = {
      id,
      kid: key.kid,
      tenants,
      expMs: req.expiresAtMs,
      secretHash: sha256(jws),
      createdBy: req.createdBy,
      createdAtMs: now,
    };
    if (req.description !== undefined) meta.description = req.description;
    await this.#extendKey(key.kid, req.expiresAtMs);
    await this.#c.store.put('token', id, meta);
    if (req.defaultedRates.length > 0) {
      this.#logger?.info('token minted without rate limits; the default was applied', {
        tokenId: id,
        defaulted: req.defaultedRates,
        ingressKbPerSec: right.ingress_kb_per_sec,
        egressKbPerSec: right.egress_kb_per_sec,
      });
    }
    return { token: formatAccessToken(id, jws) };
  }

  async refreshToken(who: Principal, body: unknown): Promise<{ message: string; new_expires_at: string }> {
    const now = this.#c.now();
    const req = parseRefreshTokenRequest(body, now);
    const meta = await this.#c.store.get<TokenMeta>('token', req.tokenId);
    if (meta === undefined) throw new FpsError(ErrorCode.NotFound, 'unknown token_id');
    this.#authorizeTenants(who, meta.tenants);
    if (this.#c.hub.isRevoked(meta.id) || (await this.#c.store.get('revoked', meta.id)) !== undefined) {
      throw bad('token is revoked and cannot be refreshed');
    }
    if (now >= meta.expMs) throw bad('token has expired and cannot be refreshed');
    await this.#extendKey(meta.kid, req.expiresAtMs);
    await this.#c.store.put('expiry', meta.id, { id: meta.id, exp_ms: req.expiresAtMs });
    await this.#c.store.put('token', meta.id, { ...meta, expMs: req.expiresAtMs });
    return { message: 'token refreshed', new_expires_at: new Date(req.expiresAtMs).toISOString() };
  }

  /** Idempotent. The full token must be given; a wrong secret is NotFound. */
  async revokeToken(who: Principal, body: unknown): Promise<{ message: string }> {
    const req = parseRevokeTokenRequest(body);
    const meta = await this.#c.store.get<TokenMeta>('token', req.id);
    if (meta === undefined || !hashMatches(meta.secretHash, req.secret)) throw new FpsError(ErrorCode.NotFound, 'unknown token');
    this.#authorizeTenants(who, meta.tenants);
    const rec: RevokedRecord = { id: meta.id, exp_ms: meta.expMs, revokedAtMs: this.#c.now() };
    const created = await this.#c.store.put('revoked', meta.id, rec, { ifAbsent: true });
    return { message: created ? 'token revoked' : 'token already revoked' };
  }

  /** A tenant's access tokens (newest first, at most `limit`), without secrets. */
  async listTokens(tenant: string, limit = 500): Promise<{ id: string; description: string | null; createdBy: string; createdAt: string; expiresAt: string; revoked: boolean }[]> {
    const now = this.#c.now();
    return (await this.#c.store.list<TokenMeta>('token'))
      .map((r) => r.value)
      .filter((m) => m.tenants.includes(tenant) && m.expMs > now)
      .sort((a, b) => b.createdAtMs - a.createdAtMs)
      .slice(0, limit)
      .map((m) => ({
        id: m.id,
        description: m.description ?? null,
        createdBy: m.createdBy,
        createdAt: new Date(m.createdAtMs).toISOString(),
        expiresAt: new Date(m.expMs).toISOString(),
        revoked: this.#c.hub.isRevoked(m.id),
      }));
  }

  /** Revokes one of a tenant's tokens by id (the console's list has ids, not secrets). Idempotent. */
  async revokeTokenById(who: Principal, tenant: string, id: string): Promise<{ message: string }> {
    const meta = await this.#c.store.get<TokenMeta>('token', id);
    if (meta === undefined || !meta.tenants.includes(tenant)) throw new FpsError(ErrorCode.NotFound, 'unknown token');
    this.#authorizeTenants(who, meta.tenants);
    const rec: RevokedRecord = { id: meta.id, exp_ms: meta.expMs, revokedAtMs: this.#c.now() };
    const created = await this.#c.store.put('revoked', meta.id, rec, { ifAbsent: true });
    return { message: created ? 'token revoked' : 'token already revoked' };
  }

  #authorizeTenants(who: Principal, tenants: readonly string[]): void {
    if (who.kind === 'operator') return;
    if (who.kind === 'tenant' && tenants.every((t) => t === who.tenant)) return;
    throw new FpsError(ErrorCode.PermissionDenied, 'a tenant master token can only manage tokens of its own tenant');
  }

  async #extendKey(kid: string, expMs: number): Promise<void> {
    const k = await this.#c.store.get<KeyRecord>('key', kid);
    if (k === undefined) throw new FpsError(ErrorCode.StoreUnavailable, `signing key ${kid} is gone`);
    // Rounded up by an hour, so issuing tokens costs a key write about once an hour, not each time.
    if (k.maxExpiryMs < expMs) await this.#c.store.put('key', kid, { ...k, maxExpiryMs: expMs + 3_600_000 });
  }

  // --- keys ---------------------------------------------------------------------------------

  /** New active key; older keys stop signing but stay published until their tokens expire. */
  async rotateKeys(): Promise<{ kid: string; published: string[] }> {
    const now = this.#c.now();
    const next = await newKeyRecord(now);
    await this.#c.store.put('key', next.kid, next);
    for (const k of await this.#c.store.list<KeyRecord>('key')) {
      if (k.id !== next.kid && k.value.active) await this.#c.store.put('key', k.id, { ...k.value, active: false, retiredAtMs: now });
    }
    await this.#c.hub.resync();
    return { kid: next.kid, published: this.#c.hub.snapshot().keys.map((k) => k.kid) };
  }

  /** Drops records that no longer matter: revocations and overrides of expired tokens, old tokens and keys. */
  async sweep(): Promise<void> {
    const now = this.#c.now();
    const skew = 60_000;
    for (const kind of ['revoked', 'expiry'] as const) {
      for (const r of await this.#c.store.list<{ exp_ms: number }>(kind)) if (r.value.exp_ms + skew < now) await this.#c.store.delete(kind, r.id);
    }
    for (const t of await this.#c.store.list<TokenMeta>('token')) if (t.value.expMs + skew < now) await this.#c.store.delete('token', t.id);
    for (const k of await this.#c.store.list<KeyRecord>('key')) {
      if (!k.value.active && k.value.maxExpiryMs + 2 * skew < now) await this.#c.store.delete('key', k.id);
    }
  }
}
