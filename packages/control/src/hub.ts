// Config push: each control instance keeps the PoP-facing state (keys, revocations, refreshed
// expiries, limits, quotas) in memory, fed by the store's watch, and streams it to its PoPs as
// JSON lines (snapshot first, then deltas). With etcd down, PoPs connecting to an instance
// still get its last known state; when etcd returns, the watch resumes and a gap triggers a
// full re-list.
import type { Logger } from '@fastpubsub/core';
import type { HookDef, PopState, PublicJwk, TenantLimits, WatchEvent } from '@fastpubsub/protocol';
import { publishedKeys } from './keys.js';
import type { ControlStore, StoreChange } from './store/store.js';
import type { ExpiryRecord, KeyRecord, RevokedRecord, UsageRecord } from './types.js';

export const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

export class WatchHub {
  readonly #store: ControlStore;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #keys = new Map<string, KeyRecord>();
  readonly #revoked = new Map<string, number>();
  readonly #expiry = new Map<string, number>();
  readonly #limits = new Map<string, TenantLimits>();
  readonly #usage = new Map<string, UsageRecord>();
  readonly #hooks = new Map<string, HookDef>();
  readonly #subscribers = new Set<(ev: WatchEvent) => void>();
  #published: PublicJwk[] = [];
  #overQuota: string[] = [];
  #rev = 0;
  #unwatch: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(store: ControlStore, now: () => number, logger: Logger) {
    this.#store = store;
    this.#now = now;
    this.#logger = logger;
  }

  async start(): Promise<void> {
    this.#unwatch = this.#store.watch(
      (c) => this.#onChange(c),
      () => void this.resync().catch((err: unknown) => this.#logger.warn('resync failed', { err })),
    );
    await this.resync();
    // Retired keys leave the published set by time, not by a store change.
    this.#timer = setInterval(() => this.#republishKeys(), 10_000);
    this.#timer.unref();
  }

  stop(): void {
    this.#unwatch?.();
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /** Re-lists everything from the store and pushes a fresh snapshot to every PoP. */
  async resync(): Promise<void> {
    const [keys, revoked, expiry, limits, usage, hooks] = await Promise.all([
      this.#store.list<KeyRecord>('key'),
      this.#store.list<RevokedRecord>('revoked'),
      this.#store.list<ExpiryRecord>('expiry'),
      this.#store.list<TenantLimits>('limits'),
      this.#store.list<UsageRecord>('usage'),
      this.#store.list<HookDef>('hook'),
    ]);
    this.#keys.clear();
    for (const k of keys) this.#keys.set(k.id, k.value);
    this.#revoked.clear();
    for (const r of revoked) this.#revoked.set(r.id, r.value.exp_ms);
    this.#expiry.clear();
    for (const e of expiry) this.#expiry.set(e.id, e.value.exp_ms);
    this.#limits.clear();
    for (const l of limits) this.#limits.set(l.id, l.value);
    this.#usage.clear();
    for (const u of usage) this.#usage.set(u.id, u.value);
    this.#hooks.clear();
    for (const h of hooks) this.#hooks.set(h.id, h.value);
    this.#published = publishedKeys([...this.#keys.values()], this.#now());
    this.#overQuota = this.#computeOverQuota();
    this.#emit({ type: 'snapshot', state: this.snapshot() });
  }

  snapshot(): PopState {
    return {
      rev: this.#rev,
      keys: [...this.#published],
      revoked: [...this.#revoked].map(([id, exp_ms]) => ({ id, exp_ms })),
      expiry: [...this.#expiry].map(([id, exp_ms]) => ({ id, exp_ms })),
      limits: Object.fromEntries(this.#limits),
      overQuota: [...this.#overQuota],
      hooks: [...this.#hooks.values()],
    };
  }

  keys(): KeyRecord[] {
    return [...this.#keys.values()];
  }

  isRevoked(id: string): boolean {
    return this.#revoked.has(id);
  }

  limitsOf(tenant: string): TenantLimits | undefined {
    return this.#limits.get(tenant);
  }

  /** Usage per tenant (all months, or one `YYYY-MM`), summed over PoPs and their restarts. */
  usage(month?: string): Record<string, { messages: number; bytes: number; connectionMs: number }> {
    const out: Record<string, { messages: number; bytes: number; connectionMs: number }> = {};
    for (const u of this.#usage.values()) {
      if (month !== undefined && u.month !== month) continue;
      const t = (out[u.tenant] ??= { messages: 0, bytes: 0, connectionMs: 0 });
      t.messages += u.messages;
      t.bytes += u.bytes;
      t.connectionMs += u.connectionMs;
    }
    return out;
  }

  subscribe(listener: (ev: WatchEvent) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }

  #onChange(c: StoreChange): void {
    this.#rev = Math.max(this.#rev, c.rev);
    const rev = this.#rev;
    switch (c.kind) {
      case 'revoked': {
        if (c.value === undefined) {
          this.#revoked.delete(c.id);
          return;
        }
        const r = c.value as RevokedRecord;
        const known = this.#revoked.has(c.id);
        this.#revoked.set(c.id, r.exp_ms);
        if (!known) this.#emit({ type: 'revoked', rev, id: c.id, exp_ms: r.exp_ms });
        return;
      }
      case 'expiry': {
        if (c.value === undefined) {
          this.#expiry.delete(c.id);
          return;
        }
        const e = c.value as ExpiryRecord;
        this.#expiry.set(c.id, e.exp_ms);
        this.#emit({ type: 'expiry', rev, id: c.id, exp_ms: e.exp_ms });
        return;
      }
      case 'key':
        if (c.value === undefined) this.#keys.delete(c.id);
        else this.#keys.set(c.id, c.value as KeyRecord);
        this.#republishKeys();
        return;
      case 'limits':
        if (c.value === undefined) this.#limits.delete(c.id);
        else this.#limits.set(c.id, c.value as TenantLimits);
        this.#emit({ type: 'limits', rev, tenant: c.id, limits: (c.value as TenantLimits | undefined) ?? null });
        this.#recomputeQuota();
        return;
      case 'usage':
        if (c.value === undefined) this.#usage.delete(c.id);
        else this.#usage.set(c.id, c.value as UsageRecord);
        this.#recomputeQuota();
        return;
      case 'hook':
        // The whole list on every change: hooks are few (bounded per tenant) and change rarely.
        if (c.value === undefined) this.#hooks.delete(c.id);
        else this.#hooks.set(c.id, c.value as HookDef);
        this.#emit({ type: 'hooks', rev, hooks: [...this.#hooks.values()] });
        return;
      default:
        return;
    }
  }

  #republishKeys(): void {
    const next = publishedKeys([...this.#keys.values()], this.#now());
    if (JSON.stringify(next) === JSON.stringify(this.#published)) return;
    this.#published = next;
    this.#emit({ type: 'keys', rev: this.#rev, keys: next });
  }

  #computeOverQuota(): string[] {
    const month = this.usage(monthOf(this.#now()));
    const over: string[] = [];
    for (const [tenant, l] of this.#limits) {
      const q = l.monthlyMessages;
      if (q !== undefined && (month[tenant]?.messages ?? 0) >= q) over.push(tenant);
    }
    return over.sort();
  }

  #recomputeQuota(): void {
    const next = this.#computeOverQuota();
    if (next.join('\n') === this.#overQuota.join('\n')) return;
    this.#overQuota = next;
    this.#emit({ type: 'quota', rev: this.#rev, overQuota: next });
  }

  #emit(ev: WatchEvent): void {
    for (const s of this.#subscribers) {
      try {
        s(ev);
      } catch (err) {
        this.#logger.warn('watch subscriber failed', { err });
      }
    }
  }
}
