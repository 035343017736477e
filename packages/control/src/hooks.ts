// Webhooks of a tenant: inbound hooks (any PoP accepts `POST /v1/hooks/{id}`, verifies the
// signature and publishes the body) and outbound hooks (matching messages are POSTed to a URL,
// signed per Standard Webhooks). The records, secrets included, reach every PoP through the
// watch stream (hub.ts); PoPs report delivery counts back (hook-stats), summed into a hook's
// status. Bodies are schema-validated; each field's error names it. See docs/webhooks.md.
import { randomBytes } from 'node:crypto';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import { INBOUND_SCHEMES, type HookCounts, type InboundScheme } from '@fastpubsub/protocol';
import { isWireError, validateChannel, validatePattern } from '@fastpubsub/wire';
import { bad, hex, isObject, POP_RE, validator as validatorFor, type ServiceContext } from './service-common.js';
import type { HookDef, HookStatsRecord, InboundHook, OutboundHook } from './types.js';

/** At most this many hooks per tenant and direction: every PoP holds them all. */
export const MAX_HOOKS_PER_DIRECTION = 100;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY_WINDOW_MS = 5 * 60_000;
const WHSEC = /^whsec_[A-Za-z0-9+/]{22,}={0,2}$/;
const POINTER = /^(\/([^~/]|~[01])*)+$/;

const checkInbound = validatorFor<{ channel?: string; channelPointer?: string; scheme: InboundScheme; secret?: string }>(
  {
    type: 'object',
    additionalProperties: false,
    required: ['scheme'],
    properties: {
      channel: { type: 'string', minLength: 1, maxLength: 1024 },
      channelPointer: { type: 'string', pattern: POINTER.source, maxLength: 1024 },
      scheme: { enum: INBOUND_SCHEMES },
      secret: { type: 'string', minLength: 8, maxLength: 1024 },
    },
  },
  {
    '': 'body must be a JSON object with scheme and channel or channelPointer (and no other fields)',
    '/scheme': `scheme must be one of ${INBOUND_SCHEMES.join(', ')}`,
    '/channel': 'channel must be a channel name',
    '/channelPointer': 'channelPointer must be a JSON pointer such as /repository/name',
    '/secret': 'secret must be a string of 8-1024 characters',
  },
);

const checkOutbound = validatorFor<{ pattern: string; url: string; timeoutMs?: number; retryWindowMs?: number }>(
  {
    type: 'object',
    additionalProperties: false,
    required: ['pattern', 'url'],
    properties: {
      pattern: { type: 'string', minLength: 1, maxLength: 1024 },
      url: { type: 'string', minLength: 1, maxLength: 2048 },
      timeoutMs: { type: 'integer', minimum: 100, maximum: 60_000 },
      retryWindowMs: { type: 'integer', minimum: 0, maximum: 24 * 3600_000 },
    },
  },
  {
    '': 'body must be a JSON object with pattern and url (and no other fields)',
    '/pattern': 'pattern must be a channel pattern such as orders.#',
    '/url': 'url must be an http(s) URL',
    '/timeoutMs': 'timeoutMs must be an integer from 100 to 60000',
    '/retryWindowMs': 'retryWindowMs must be an integer from 0 to 86400000',
  },
);

export class Hooks {
  readonly #c: ServiceContext;
  readonly #tenantExists: (tenant: string) => Promise<unknown>;

  constructor(c: ServiceContext, tenantExists: (tenant: string) => Promise<unknown>) {
    this.#c = c;
    this.#tenantExists = tenantExists;
  }

  async createInbound(tenant: string, input: unknown): Promise<InboundHook> {
    await this.#tenantExists(tenant);
    const b = checkInbound(input);
    if ((b.channel === undefined) === (b.channelPointer === undefined)) throw bad('exactly one of channel or channelPointer is required');
    if (b.channel !== undefined) wireCheck(() => validateChannel(b.channel as string), 'channel');
    if (b.scheme === 'none' && b.secret !== undefined) throw bad('secret: scheme none takes no secret');
    if ((b.scheme === 'github' || b.scheme === 'stripe') && b.secret === undefined) throw bad(`secret: scheme ${b.scheme} needs the secret configured at the sender`);
    if (b.scheme === 'standard' && b.secret !== undefined && !WHSEC.test(b.secret)) throw bad('secret: a Standard Webhooks secret is whsec_ followed by base64');
    await this.#checkRoom(tenant, 'in');
    const secret = b.scheme === 'standard' ? (b.secret ?? newSecret()) : b.secret;
    const hook: InboundHook = {
      id: `in_${hex(12)}`,
      tenant,
      direction: 'in',
      ...(b.channel === undefined ? {} : { channel: b.channel }),
      ...(b.channelPointer === undefined ? {} : { channelPointer: b.channelPointer }),
      scheme: b.scheme,
      ...(secret === undefined ? {} : { secret }),
      createdAtMs: this.#c.now(),
    };
    await this.#c.store.put('hook', hook.id, hook);
    return hook;
  }

  async createOutbound(tenant: string, input: unknown): Promise<OutboundHook> {
    await this.#tenantExists(tenant);
    const b = checkOutbound(input);
    wireCheck(() => validatePattern(b.pattern), 'pattern');
    let url: URL;
    try {
      url = new URL(b.url);
    } catch {
      throw bad('url must be an http(s) URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad('url must be an http(s) URL');
    if (url.username !== '' || url.password !== '') throw bad('url: credentials in the URL are not allowed');
    await this.#checkRoom(tenant, 'out');
    const hook: OutboundHook = {
      id: `out_${hex(12)}`,
      tenant,
      direction: 'out',
      pattern: b.pattern,
      url: url.toString(),
      secret: newSecret(),
      timeoutMs: b.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retryWindowMs: b.retryWindowMs ?? DEFAULT_RETRY_WINDOW_MS,
      createdAtMs: this.#c.now(),
    };
    await this.#c.store.put('hook', hook.id, hook);
    return hook;
  }

  /** The tenant's hooks of one direction, without secrets. */
  async list(tenant: string, direction: 'in' | 'out'): Promise<object[]> {
    await this.#tenantExists(tenant);
    const hooks = (await this.#c.store.list<HookDef>('hook')).map((h) => h.value).filter((h) => h.tenant === tenant && h.direction === direction);
    const stats = direction === 'out' ? await this.#stats() : new Map<string, HookCounts>();
    return hooks.sort((a, b) => a.createdAtMs - b.createdAtMs).map((h) => this.#public(h, stats));
  }

  /** One hook without its secret; an outbound hook with its delivery status summed over PoPs. */
  async get(tenant: string, direction: 'in' | 'out', id: string): Promise<object> {
    const h = await this.#find(tenant, direction, id);
    return this.#public(h, h.direction === 'out' ? await this.#stats() : new Map<string, HookCounts>());
  }

  async delete(tenant: string, direction: 'in' | 'out', id: string): Promise<void> {
    await this.#find(tenant, direction, id);
    await this.#remove(id);
  }

  /** Every hook of a tenant (the tenant is being deleted). */
  async deleteAllOf(tenant: string): Promise<void> {
    for (const h of await this.#c.store.list<HookDef>('hook')) if (h.value.tenant === tenant) await this.#remove(h.id);
  }

  async #remove(id: string): Promise<void> {
    await this.#c.store.delete('hook', id);
    for (const s of await this.#c.store.list<HookStatsRecord>('hookstats')) if (s.value.hook === id) await this.#c.store.delete('hookstats', s.id);
  }

  /** `{ boot, hooks: { hookId: { delivered, retried, dropped } } }`, cumulative per PoP boot. */
  async reportStats(pop: string, body: unknown): Promise<void> {
    if (!POP_RE.test(pop)) throw bad('bad PoP id');
    if (!isObject(body) || !isObject(body['hooks'])) throw bad('hooks is required');
    const boot = typeof body['boot'] === 'string' && /^[a-z0-9]{1,32}$/.test(body['boot']) ? body['boot'] : 'unknown';
    const entries = Object.entries(body['hooks']).slice(0, 10_000);
    for (const [hook, c] of entries) {
      if (!/^out_[0-9a-f]{24}$/.test(hook) || !isObject(c)) continue;
      const num = (k: string): number => (typeof c[k] === 'number' && Number.isFinite(c[k]) && (c[k]) >= 0 ? (c[k]) : 0);
      const rec: HookStatsRecord = { hook, pop, boot, delivered: num('delivered'), retried: num('retried'), dropped: num('dropped'), updatedAtMs: this.#c.now() };
      await this.#c.store.put('hookstats', `${hook}/${pop}/${boot}`, rec);
    }
  }

  async #stats(): Promise<Map<string, HookCounts>> {
    const out = new Map<string, HookCounts>();
    for (const { value: r } of await this.#c.store.list<HookStatsRecord>('hookstats')) {
      const t = out.get(r.hook) ?? { delivered: 0, retried: 0, dropped: 0 };
      t.delivered += r.delivered;
      t.retried += r.retried;
      t.dropped += r.dropped;
      out.set(r.hook, t);
    }
    return out;
  }

  #public(h: HookDef, stats: Map<string, HookCounts>): object {
    const { secret: _s, ...rest } = h;
    if (h.direction === 'in') return { ...rest, url: `/v1/hooks/${h.id}` };
    return { ...rest, status: stats.get(h.id) ?? { delivered: 0, retried: 0, dropped: 0 } };
  }

  async #find(tenant: string, direction: 'in' | 'out', id: string): Promise<HookDef> {
    await this.#tenantExists(tenant);
    const h = await this.#c.store.get<HookDef>('hook', id);
    if (h === undefined || h.tenant !== tenant || h.direction !== direction) throw new FpsError(ErrorCode.NotFound, `no ${direction}bound hook ${id}`);
    return h;
  }

  async #checkRoom(tenant: string, direction: 'in' | 'out'): Promise<void> {
    const n = (await this.#c.store.list<HookDef>('hook')).filter((h) => h.value.tenant === tenant && h.value.direction === direction).length;
    if (n >= MAX_HOOKS_PER_DIRECTION) throw bad(`a tenant has at most ${MAX_HOOKS_PER_DIRECTION} ${direction}bound hooks`);
  }
}

/** A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

function wireCheck(check: () => void, field: string): void {
  try {
    check();
  } catch (err) {
    if (isWireError(err)) throw new FpsError(ErrorCode.InvalidName, `${field}: ${err.message}`);
    throw err;
  }
}
