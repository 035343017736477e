// The control plane's operations over a ControlStore: tenants, master tokens, signed access
// tokens (contract §7 bodies), limits, signing-key rotation, the PoP registry and usage.
// Stateless apart from the WatchHub's cache, so several instances can share one etcd cluster.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import {
  formatAccessToken,
  parseAccessToken,
  parseGetTokenRequest,
  parseRefreshTokenRequest,
  parseRevokeTokenRequest,
  type TenantLimits,
  type TicketClaims,
} from '@fastpubsub/protocol';
import { WatchHub, monthOf } from './hub.js';
import { newKeyRecord, signTicket, signingKey } from './keys.js';
import type { ControlStore } from './store/store.js';
import type { KeyRecord, MasterTokenRecord, PopRecord, RevokedRecord, TenantRecord, TokenMeta, UsageRecord } from './types.js';

export type Principal = { kind: 'operator' } | { kind: 'pop' } | { kind: 'tenant'; tenant: string };

const TENANT_RE = /^[A-Za-z0-9_\-~@.]{1,128}$/;
const POP_RE = /^[A-Za-z0-9_.~@-]{1,128}$/;
const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const hex = (n: number): string => randomBytes(n).toString('hex');
const bad = (m: string): FpsError => new FpsError(ErrorCode.BadRequest, m);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface ControlServiceOptions {
  store: ControlStore;
  now: () => number;
  popLeaseMs: number;
  hub: WatchHub;
}

export class ControlService {
  readonly store: ControlStore;
  readonly hub: WatchHub;
  readonly #now: () => number;
  readonly #popLeaseMs: number;

  constructor(o: ControlServiceOptions) {
    this.store = o.store;
    this.hub = o.hub;
    this.#now = o.now;
    this.#popLeaseMs = o.popLeaseMs;
  }

  /** Creates the first signing key if there is none (racing instances may both create one: harmless). */
  async ensureSigningKey(): Promise<void> {
    if (signingKey(this.hub.keys()) !== undefined) return;
    const k = await newKeyRecord(this.#now());
    await this.store.put('key', k.kid, k);
    await this.hub.resync();
  }

  // --- principals ---------------------------------------------------------------------------

  /** Resolves a tenant master token `MT_{id}_{secret}`; undefined if it is not a valid one. */
  async tenantOfMasterToken(token: string): Promise<string | undefined> {
    if (!token.startsWith('MT_')) return undefined;
    const p = parseAccessToken('AT_' + token.slice(3));
    if (p === undefined) return undefined;
    const rec = await this.store.get<MasterTokenRecord>('mt', p.id);
    if (rec === undefined) return undefined;
    const a = Buffer.from(sha256(p.secret), 'hex');
    const b = Buffer.from(rec.secretHash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? rec.tenant : undefined;
  }

  // --- tenants ------------------------------------------------------------------------------

  async createTenant(body: unknown): Promise<TenantRecord> {
    if (!isObject(body)) throw bad('body must be a JSON object');
    const id = body['id'];
    if (typeof id !== 'string' || !TENANT_RE.test(id)) throw bad('id must be 1-128 characters of A-Za-z0-9_-~@.');
    const name = body['name'] === undefined ? id : body['name'];
    if (typeof name !== 'string' || name.length > 256) throw bad('name must be a string of at most 256 characters');
    const rec: TenantRecord = { id, name, createdAtMs: this.#now() };
    if (!(await this.store.put('tenant', id, rec, { ifAbsent: true }))) {
      throw new FpsError(ErrorCode.Conflict, `tenant ${id} already exists`);
    }
    if (body['limits'] !== undefined) await this.setLimits(id, body['limits']);
    return rec;
  }

  async getTenant(id: string): Promise<TenantRecord & { limits: TenantLimits | null }> {
    const t = await this.store.get<TenantRecord>('tenant', id);
    if (t === undefined) throw new FpsError(ErrorCode.NotFound, `no tenant ${id}`);
    return { ...t, limits: (await this.store.get<TenantLimits>('limits', id)) ?? null };
  }

  async listTenants(): Promise<TenantRecord[]> {
    return (await this.store.list<TenantRecord>('tenant')).map((t) => t.value).sort((a, b) => a.id.localeCompare(b.id));
  }

  async updateTenant(id: string, body: unknown): Promise<TenantRecord> {
    const t = await this.getTenant(id);
    if (!isObject(body)) throw bad('body must be a JSON object');
    const name = body['name'];
    if (name !== undefined && (typeof name !== 'string' || name.length > 256)) throw bad('name must be a string');
    const next: TenantRecord = { id, name: typeof name === 'string' ? name : t.name, createdAtMs: t.createdAtMs };
    await this.store.put('tenant', id, next);
    return next;
  }

  /** Deletes the tenant, its master tokens and limits. Its access tokens live until they expire. */
  async deleteTenant(id: string): Promise<void> {
    await this.getTenant(id);
    for (const mt of await this.store.list<MasterTokenRecord>('mt')) {
      if (mt.value.tenant === id) await this.store.delete('mt', mt.id);
    }
    await this.store.delete('limits', id);
    await this.store.delete('tenant', id);
  }

  // --- master tokens ------------------------------------------------------------------------

  /** The token text is returned here and never again; only its hash is stored. */
  async createMasterToken(tenant: string, body: unknown): Promise<{ id: string; token: string }> {
    await this.getTenant(tenant);
    const description = isObject(body) && typeof body['description'] === 'string' ? body['description'] : undefined;
    const id = hex(8);
    const secret = hex(24);
    const rec: MasterTokenRecord = { id, tenant, secretHash: sha256(secret), createdAtMs: this.#now() };
    if (description !== undefined) rec.description = description.slice(0, 1024);
    await this.store.put('mt', id, rec);
    return { id, token: `MT_${id}_${secret}` };
  }

  async listMasterTokens(tenant: string): Promise<Array<Omit<MasterTokenRecord, 'secretHash'>>> {
    await this.getTenant(tenant);
    return (await this.store.list<MasterTokenRecord>('mt'))
      .filter((m) => m.value.tenant === tenant)
      .map(({ value: { secretHash: _h, ...rest } }) => rest);
  }

  async deleteMasterToken(tenant: string, id: string): Promise<void> {
    const rec = await this.store.get<MasterTokenRecord>('mt', id);
    if (rec === undefined || rec.tenant !== tenant) throw new FpsError(ErrorCode.NotFound, 'no such master token');
    await this.store.delete('mt', id);
  }

  // --- access tokens (contract §7) ---------------------------------------------------------

  async issueToken(who: Principal, body: unknown): Promise<{ token: string }> {
    const now = this.#now();
    const req = parseGetTokenRequest(body, now);
    const tenants = [...new Set(req.right.tenant_grants.flatMap((g) => g.tenant_ids))];
    this.#authorizeTenants(who, tenants);
    const key = signingKey(this.hub.keys());
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
    await this.store.put('token', id, meta);
    return { token: formatAccessToken(id, jws) };
  }

  async refreshToken(who: Principal, body: unknown): Promise<{ message: string; new_expires_at: string }> {
    const now = this.#now();
    const req = parseRefreshTokenRequest(body, now);
    const meta = await this.store.get<TokenMeta>('token', req.tokenId);
    if (meta === undefined) throw new FpsError(ErrorCode.NotFound, 'unknown token_id');
    this.#authorizeTenants(who, meta.tenants);
    if (this.hub.isRevoked(meta.id) || (await this.store.get('revoked', meta.id)) !== undefined) {
      throw bad('token is revoked and cannot be refreshed');
    }
    if (now >= meta.expMs) throw bad('token has expired and cannot be refreshed');
    await this.#extendKey(meta.kid, req.expiresAtMs);
    await this.store.put('expiry', meta.id, { id: meta.id, exp_ms: req.expiresAtMs });
    await this.store.put('token', meta.id, { ...meta, expMs: req.expiresAtMs });
    return { message: 'token refreshed', new_expires_at: new Date(req.expiresAtMs).toISOString() };
  }

  /** Idempotent. The full token must be given; a wrong secret is NotFound. */
  async revokeToken(who: Principal, body: unknown): Promise<{ message: string }> {
    const req = parseRevokeTokenRequest(body);
    const meta = await this.store.get<TokenMeta>('token', req.id);
    if (meta === undefined || !hashMatches(meta.secretHash, req.secret)) throw new FpsError(ErrorCode.NotFound, 'unknown token');
    this.#authorizeTenants(who, meta.tenants);
    const rec: RevokedRecord = { id: meta.id, exp_ms: meta.expMs, revokedAtMs: this.#now() };
    const created = await this.store.put('revoked', meta.id, rec, { ifAbsent: true });
    return { message: created ? 'token revoked' : 'token already revoked' };
  }

  #authorizeTenants(who: Principal, tenants: readonly string[]): void {
    if (who.kind === 'operator') return;
    if (who.kind === 'tenant' && tenants.every((t) => t === who.tenant)) return;
    throw new FpsError(ErrorCode.PermissionDenied, 'a tenant master token can only manage tokens of its own tenant');
  }

  async #extendKey(kid: string, expMs: number): Promise<void> {
    const k = await this.store.get<KeyRecord>('key', kid);
    if (k === undefined) throw new FpsError(ErrorCode.StoreUnavailable, `signing key ${kid} is gone`);
    // Rounded up by an hour, so issuing tokens costs a key write about once an hour, not each time.
    if (k.maxExpiryMs < expMs) await this.store.put('key', kid, { ...k, maxExpiryMs: expMs + 3_600_000 });
  }

  // --- limits -------------------------------------------------------------------------------

  async setLimits(tenant: string, body: unknown): Promise<TenantLimits> {
    await this.getTenant(tenant);
    const limits = parseLimits(body);
    await this.store.put('limits', tenant, limits);
    return limits;
  }

  async getLimits(tenant: string): Promise<TenantLimits> {
    await this.getTenant(tenant);
    return (await this.store.get<TenantLimits>('limits', tenant)) ?? {};
  }

  // --- keys ---------------------------------------------------------------------------------

  /** New active key; older keys stop signing but stay published until their tokens expire. */
  async rotateKeys(): Promise<{ kid: string; published: string[] }> {
    const now = this.#now();
    const next = await newKeyRecord(now);
    await this.store.put('key', next.kid, next);
    for (const k of await this.store.list<KeyRecord>('key')) {
      if (k.id !== next.kid && k.value.active) await this.store.put('key', k.id, { ...k.value, active: false, retiredAtMs: now });
    }
    await this.hub.resync();
    return { kid: next.kid, published: this.hub.snapshot().keys.map((k) => k.kid) };
  }

  // --- PoP registry and usage ---------------------------------------------------------------

  async heartbeatPop(id: string, body: unknown): Promise<PopRecord> {
    if (!POP_RE.test(id)) throw bad('PoP id must be 1-128 characters of A-Za-z0-9_.~@-');
    if (!isObject(body)) throw bad('body must be a JSON object');
    const str = (k: string): string => (typeof body[k] === 'string' ? (body[k] as string).slice(0, 512) : '');
    const now = this.#now();
    const prev = await this.store.get<PopRecord>('pop', id);
    const rec: PopRecord = {
      id,
      region: str('region'),
      httpUrl: str('httpUrl'),
      wsUrl: str('wsUrl'),
      ...(str('mesh') === '' ? {} : { mesh: str('mesh') }),
      ...(str('meshId') === '' ? {} : { meshId: str('meshId') }),
      registeredAtMs: prev?.registeredAtMs ?? now,
      lastSeenMs: now,
    };
    await this.store.put('pop', id, rec, { ttlMs: this.#popLeaseMs });
    return rec;
  }

  async listPops(): Promise<PopRecord[]> {
    return (await this.store.list<PopRecord>('pop')).map((p) => p.value).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** `{ boot, usage: { tenant: { messages, bytes, connectionMs } } }`, cumulative per PoP boot and month. */
  async reportUsage(pop: string, body: unknown): Promise<void> {
    if (!POP_RE.test(pop)) throw bad('bad PoP id');
    if (!isObject(body) || !isObject(body['usage'])) throw bad('usage is required');
    const boot = typeof body['boot'] === 'string' && /^[a-z0-9]{1,32}$/.test(body['boot']) ? body['boot'] : 'unknown';
    const now = this.#now();
    const month = typeof body['month'] === 'string' && /^\d{4}-\d{2}$/.test(body['month']) ? body['month'] : monthOf(now);
    for (const [tenant, u] of Object.entries(body['usage'])) {
      if (!TENANT_RE.test(tenant) || !isObject(u)) continue;
      const num = (k: string): number => (typeof u[k] === 'number' && Number.isFinite(u[k]) && (u[k] as number) >= 0 ? (u[k] as number) : 0);
      const rec: UsageRecord = {
        tenant, month, pop, boot,
        messages: num('messages'), bytes: num('bytes'), connectionMs: num('connectionMs'),
        updatedAtMs: now,
      };
      await this.store.put('usage', `${tenant}/${month}/${pop}/${boot}`, rec);
    }
  }

  usage(month?: string): Record<string, { messages: number; bytes: number; connectionMinutes: number }> {
    const out: Record<string, { messages: number; bytes: number; connectionMinutes: number }> = {};
    for (const [t, u] of Object.entries(this.hub.usage(month))) {
      out[t] = { messages: u.messages, bytes: u.bytes, connectionMinutes: Math.round((u.connectionMs / 60_000) * 1000) / 1000 };
    }
    return out;
  }

  /** Drops records that no longer matter: revocations and overrides of expired tokens, old tokens and keys. */
  async sweep(): Promise<void> {
    const now = this.#now();
    const skew = 60_000;
    for (const kind of ['revoked', 'expiry'] as const) {
      for (const r of await this.store.list<{ exp_ms: number }>(kind)) if (r.value.exp_ms + skew < now) await this.store.delete(kind, r.id);
    }
    for (const t of await this.store.list<TokenMeta>('token')) if (t.value.expMs + skew < now) await this.store.delete('token', t.id);
    for (const k of await this.store.list<KeyRecord>('key')) {
      if (!k.value.active && k.value.maxExpiryMs + 2 * skew < now) await this.store.delete('key', k.id);
    }
  }
}

function hashMatches(hash: string, secret: string): boolean {
  const a = Buffer.from(sha256(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

const RATE_KEYS = ['messagesPerSecond', 'bytesPerSecond'] as const;

function positive(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw bad(`${field} must be a positive number`);
  return v;
}

function parseChannelLimits(v: unknown, field: string): { messagesPerSecond?: number; bytesPerSecond?: number } {
  if (!isObject(v)) throw bad(`${field} must be an object`);
  const out: { messagesPerSecond?: number; bytesPerSecond?: number } = {};
  for (const k of Object.keys(v)) {
    if (!(RATE_KEYS as readonly string[]).includes(k)) throw bad(`${field}.${k}: unknown key`);
    out[k as (typeof RATE_KEYS)[number]] = positive(v[k], `${field}.${k}`);
  }
  return out;
}

/** Strict: unknown keys fail with their path, like the relay config. */
export function parseLimits(v: unknown): TenantLimits {
  if (!isObject(v)) throw bad('limits must be a JSON object');
  const out: TenantLimits = {};
  for (const [k, val] of Object.entries(v)) {
    switch (k) {
      case 'messagesPerSecond':
      case 'bytesPerSecond':
      case 'burstSeconds':
        out[k] = positive(val, k);
        break;
      case 'maxConnections':
      case 'monthlyMessages':
        if (!Number.isInteger(val) || (val as number) < 0) throw bad(`${k} must be a non-negative integer`);
        out[k] = val as number;
        break;
      case 'channel':
        out.channel = parseChannelLimits(val, 'channel');
        break;
      case 'channels': {
        if (!isObject(val)) throw bad('channels must be an object keyed by channel');
        const chs: Record<string, { messagesPerSecond?: number; bytesPerSecond?: number }> = {};
        for (const [ch, l] of Object.entries(val)) chs[ch] = parseChannelLimits(l, `channels.${ch}`);
        out.channels = chs;
        break;
      }
      default:
        throw bad(`${k}: unknown key`);
    }
  }
  return out;
}
