// Tenants, their master tokens and their limits.
import { ErrorCode, FpsError } from '@fastpubsub/core';
import { parseAccessToken, type ChannelLimits, type TenantLimits } from '@fastpubsub/protocol';
import { bad, hashMatches, hex, isObject, sha256, TENANT_RE, validator, type ServiceContext } from './service-common.js';
import type { MasterTokenRecord, TenantRecord } from './types.js';

const NAME = { type: 'string', maxLength: 256 };

/** POST /v1/tenants: unknown keys are ignored; each field's error names it. */
const checkNewTenant = validator<{ id: string; name?: string; limits?: unknown }>(
  { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: TENANT_RE.source }, name: NAME } },
  { '': 'body must be a JSON object', '/id': 'id must be 1-128 characters of A-Za-z0-9_-~@.', '/name': 'name must be a string of at most 256 characters' },
);

/** PATCH /v1/tenants/{tenant}. */
const checkTenantUpdate = validator<{ name?: string }>(
  { type: 'object', properties: { name: NAME } },
  { '': 'body must be a JSON object', '/name': 'name must be a string' },
);

export class Tenants {
  readonly #c: ServiceContext;

  constructor(c: ServiceContext) {
    this.#c = c;
  }

  /** Resolves a tenant master token `MT_{id}_{secret}`; undefined if it is not a valid one. */
  async tenantOfMasterToken(token: string): Promise<string | undefined> {
    if (!token.startsWith('MT_')) return undefined;
    const p = parseAccessToken('AT_' + token.slice(3));
    if (p === undefined) return undefined;
    const rec = await this.#c.store.get<MasterTokenRecord>('mt', p.id);
    if (rec === undefined) return undefined;
    return hashMatches(rec.secretHash, p.secret) ? rec.tenant : undefined;
  }

  // --- tenants ------------------------------------------------------------------------------

  async createTenant(input: unknown): Promise<TenantRecord> {
    const body = checkNewTenant(input);
    const id = body.id;
    const rec: TenantRecord = { id, name: body.name ?? id, createdAtMs: this.#c.now() };
    if (!(await this.#c.store.put('tenant', id, rec, { ifAbsent: true }))) {
      throw new FpsError(ErrorCode.Conflict, `tenant ${id} already exists`);
    }
    if (body.limits !== undefined) await this.setLimits(id, body.limits);
    return rec;
  }

  async getTenant(id: string): Promise<TenantRecord & { limits: TenantLimits | null }> {
    const t = await this.#c.store.get<TenantRecord>('tenant', id);
    if (t === undefined) throw new FpsError(ErrorCode.NotFound, `no tenant ${id}`);
    return { ...t, limits: (await this.#c.store.get<TenantLimits>('limits', id)) ?? null };
  }

  async listTenants(): Promise<TenantRecord[]> {
    return (await this.#c.store.list<TenantRecord>('tenant')).map((t) => t.value).sort((a, b) => a.id.localeCompare(b.id));
  }

  async updateTenant(id: string, input: unknown): Promise<TenantRecord> {
    const t = await this.getTenant(id);
    const { name } = checkTenantUpdate(input);
    const next: TenantRecord = { id, name: name ?? t.name, createdAtMs: t.createdAtMs };
    await this.#c.store.put('tenant', id, next);
    return next;
  }

  /** Deletes the tenant, its master tokens and limits (http.ts then its webhooks). Its access tokens live until they expire. */
  async deleteTenant(id: string): Promise<void> {
    await this.getTenant(id);
    for (const mt of await this.#c.store.list<MasterTokenRecord>('mt')) {
      if (mt.value.tenant === id) await this.#c.store.delete('mt', mt.id);
    }
    await this.#c.store.delete('limits', id);
    await this.#c.store.delete('tenant', id);
  }

  // --- master tokens ------------------------------------------------------------------------

  /** The token text is returned here and never again; only its hash is stored. */
  async createMasterToken(tenant: string, body: unknown): Promise<{ id: string; token: string }> {
    await this.getTenant(tenant);
    const description = isObject(body) && typeof body['description'] === 'string' ? body['description'] : undefined;
    const id = hex(8);
    const secret = hex(24);
    const rec: MasterTokenRecord = { id, tenant, secretHash: sha256(secret), createdAtMs: this.#c.now() };
    if (description !== undefined) rec.description = description.slice(0, 1024);
    await this.#c.store.put('mt', id, rec);
    return { id, token: `MT_${id}_${secret}` };
  }

  async listMasterTokens(tenant: string): Promise<Array<Omit<MasterTokenRecord, 'secretHash'>>> {
    await this.getTenant(tenant);
    return (await this.#c.store.list<MasterTokenRecord>('mt'))
      .filter((m) => m.value.tenant === tenant)
      .map(({ value: { secretHash: _h, ...rest } }) => rest);
  }

  async deleteMasterToken(tenant: string, id: string): Promise<void> {
    const rec = await this.#c.store.get<MasterTokenRecord>('mt', id);
    if (rec === undefined || rec.tenant !== tenant) throw new FpsError(ErrorCode.NotFound, 'no such master token');
    await this.#c.store.delete('mt', id);
  }

  // --- limits -------------------------------------------------------------------------------

  async setLimits(tenant: string, body: unknown): Promise<TenantLimits> {
    await this.getTenant(tenant);
    const limits = parseLimits(body);
    await this.#c.store.put('limits', tenant, limits);
    return limits;
  }

  async getLimits(tenant: string): Promise<TenantLimits> {
    await this.getTenant(tenant);
    return (await this.#c.store.get<TenantLimits>('limits', tenant)) ?? {};
  }
}

const RATE_KEYS = ['messagesPerSecond', 'bytesPerSecond'] as const;

function positive(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw bad(`${field} must be a positive number`);
  return v;
}

function parseChannelLimits(v: unknown, field: string): ChannelLimits {
  if (!isObject(v)) throw bad(`${field} must be an object`);
  const out: ChannelLimits = {};
  for (const k of Object.keys(v)) {
    if (k === 'delivery') {
      if (v[k] !== 'all' && v[k] !== 'latest') throw bad(`${field}.delivery must be 'all' or 'latest'`);
      out.delivery = v[k];
      continue;
    }
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
        const chs: Record<string, ChannelLimits> = {};
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
