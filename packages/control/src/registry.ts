// The PoP registry (lease-backed heartbeats, for discovery and the mesh) and usage reports.
import { monthOf } from './hub.js';
import { bad, isObject, POP_RE, TENANT_RE, type ServiceContext } from './service-common.js';
import type { PopRecord, UsageRecord } from './types.js';

export class Registry {
  readonly #c: ServiceContext;
  readonly #popLeaseMs: number;

  constructor(c: ServiceContext, popLeaseMs: number) {
    this.#c = c;
    this.#popLeaseMs = popLeaseMs;
  }

  async heartbeatPop(id: string, body: unknown): Promise<PopRecord> {
    if (!POP_RE.test(id)) throw bad('PoP id must be 1-128 characters of A-Za-z0-9_.~@-');
    if (!isObject(body)) throw bad('body must be a JSON object');
    const str = (k: string): string => (typeof body[k] === 'string' ? (body[k]).slice(0, 512) : '');
    const now = this.#c.now();
    const prev = await this.#c.store.get<PopRecord>('pop', id);
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
    await this.#c.store.put('pop', id, rec, { ttlMs: this.#popLeaseMs });
    return rec;
  }

  async listPops(): Promise<PopRecord[]> {
    return (await this.#c.store.list<PopRecord>('pop')).map((p) => p.value).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** `{ boot, usage: { tenant: { messages, bytes, connectionMs } } }`, cumulative per PoP boot and month. */
  async reportUsage(pop: string, body: unknown): Promise<void> {
    if (!POP_RE.test(pop)) throw bad('bad PoP id');
    if (!isObject(body) || !isObject(body['usage'])) throw bad('usage is required');
    const boot = typeof body['boot'] === 'string' && /^[a-z0-9]{1,32}$/.test(body['boot']) ? body['boot'] : 'unknown';
    const now = this.#c.now();
    const month = typeof body['month'] === 'string' && /^\d{4}-\d{2}$/.test(body['month']) ? body['month'] : monthOf(now);
    for (const [tenant, u] of Object.entries(body['usage'])) {
      if (!TENANT_RE.test(tenant) || !isObject(u)) continue;
      const num = (k: string): number => (typeof u[k] === 'number' && Number.isFinite(u[k]) && (u[k]) >= 0 ? (u[k]) : 0);
      const rec: UsageRecord = {
        tenant, month, pop, boot,
        messages: num('messages'), bytes: num('bytes'), connectionMs: num('connectionMs'),
        updatedAtMs: now,
      };
      await this.#c.store.put('usage', `${tenant}/${month}/${pop}/${boot}`, rec);
    }
  }

  usage(month?: string): Record<string, { messages: number; bytes: number; connectionMinutes: number }> {
    const out: Record<string, { messages: number; bytes: number; connectionMinutes: number }> = {};
    for (const [t, u] of Object.entries(this.#c.hub.usage(month))) {
      out[t] = { messages: u.messages, bytes: u.bytes, connectionMinutes: Math.round((u.connectionMs / 60_000) * 1000) / 1000 };
    }
    return out;
  }
}
