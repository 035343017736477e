// Admission control at a PoP (pure, clock injected): token buckets per tenant and per
// (tenant, channel) for messages/s and bytes/s, per-tenant connection counts, per-IP
// connection-attempt rate, monthly message quotas, and the usage counters the PoP reports to
// the control plane (messages, bytes, connection-milliseconds per tenant).
import type { ChannelLimits, TenantLimits } from '@fastpubsub/protocol';
import { TokenBucket } from './bucket.js';

export type AdmitResult = 'ok' | 'rate_limited';
/** Bounded label set for metrics. */
export type LimitScope = 'tenant' | 'channel' | 'quota' | 'connections' | 'ip';

export interface AdmissionOptions {
  /** Connection attempts per second per client IP (0 or absent: unlimited). */
  ipAttemptsPerSecond?: number;
  /** Bucket depth for IP attempts, in attempts; default 2 s of the rate, at least 1. */
  ipAttemptsBurst?: number;
  /** Upper bound on buckets kept per map (channels, IPs); idle full buckets are dropped first. */
  maxBuckets?: number;
}

export interface TenantUsage {
  messages: number;
  bytes: number;
  connectionMs: number;
}

interface Pair {
  msgs: TokenBucket | undefined;
  bytes: TokenBucket | undefined;
}

interface TenantState {
  limits: TenantLimits;
  pair: Pair;
  channels: Map<string, Pair>;
  connections: number;
  overQuota: boolean;
}

const EMPTY: TenantLimits = Object.freeze({});

function bucketsFor(l: ChannelLimits | undefined, burstSeconds: number, nowMs: number): Pair {
  const make = (rate: number | undefined): TokenBucket | undefined =>
    rate === undefined || rate <= 0 ? undefined : new TokenBucket(rate, Math.max(1, rate * burstSeconds), nowMs);
  return { msgs: make(l?.messagesPerSecond), bytes: make(l?.bytesPerSecond) };
}

/** Takes from both buckets of a pair, or from neither. */
function takePair(p: Pair, bytes: number, nowMs: number): boolean {
  if (p.msgs !== undefined && !p.msgs.has(1, nowMs)) return false;
  if (p.bytes !== undefined && !p.bytes.has(bytes, nowMs)) return false;
  p.msgs?.take(1, nowMs);
  p.bytes?.take(bytes, nowMs);
  return true;
}

export class Admission {
  readonly #tenants = new Map<string, TenantState>();
  readonly #ips = new Map<string, TokenBucket>();
  readonly #usage = new Map<string, TenantUsage>();
  readonly #refused: Record<LimitScope, number> = { tenant: 0, channel: 0, quota: 0, connections: 0, ip: 0 };
  readonly #maxBuckets: number;
  #ipRate: number;
  #ipBurst: number;
  #connClockMs: number | undefined;

  constructor(opts: AdmissionOptions = {}) {
    this.#maxBuckets = opts.maxBuckets ?? 100_000;
    this.#ipRate = opts.ipAttemptsPerSecond ?? 0;
    this.#ipBurst = opts.ipAttemptsBurst ?? Math.max(1, 2 * this.#ipRate);
  }

  /** Replaces a tenant's limits (null: no limits). Existing buckets start full again. */
  setLimits(tenant: string, limits: TenantLimits | null, nowMs: number): void {
    const st = this.#state(tenant, nowMs);
    st.limits = limits ?? EMPTY;
    st.pair = bucketsFor(st.limits, st.limits.burstSeconds ?? 1, nowMs);
    st.channels.clear();
  }

  /** Replaces the whole limit table (a snapshot from the control plane). */
  setAllLimits(all: Readonly<Record<string, TenantLimits>>, overQuota: readonly string[], nowMs: number): void {
    for (const tenant of this.#tenants.keys()) if (!(tenant in all)) this.setLimits(tenant, null, nowMs);
    for (const [tenant, l] of Object.entries(all)) {
      const cur = this.#tenants.get(tenant)?.limits;
      if (cur === undefined || JSON.stringify(cur) !== JSON.stringify(l)) this.setLimits(tenant, l, nowMs);
    }
    this.setOverQuota(overQuota, nowMs);
  }

  setOverQuota(tenants: readonly string[], nowMs: number): void {
    const over = new Set(tenants);
    for (const [t, st] of this.#tenants) st.overQuota = over.has(t);
    for (const t of over) this.#state(t, nowMs).overQuota = true;
  }

  /** The tenant's config makes this channel latest-mode (its `channels` entry, else its `channel` default). */
  isLatest(tenant: string, channel: string): boolean {
    const l = this.#tenants.get(tenant)?.limits;
    if (l === undefined) return false;
    return (l.channels?.[channel]?.delivery ?? l.channel?.delivery) === 'latest';
  }

  /** One publish of `bytes` payload bytes; counts usage when admitted. */
  admitPublish(tenant: string, channel: string, bytes: number, nowMs: number): AdmitResult {
    const st = this.#tenants.get(tenant);
    if (st !== undefined) {
      if (st.overQuota) return this.#refuse('quota');
      const l = st.limits;
      const chLimits = l.channels?.[channel] ?? l.channel;
      let ch: Pair | undefined;
      if (chLimits !== undefined) {
        ch = st.channels.get(channel);
        if (ch === undefined) {
          if (st.channels.size >= this.#maxBuckets) sweep(st.channels, nowMs, (p) => (p.msgs?.isFull(nowMs) ?? true) && (p.bytes?.isFull(nowMs) ?? true));
          ch = bucketsFor(chLimits, l.burstSeconds ?? 1, nowMs);
          st.channels.set(channel, ch);
        }
      }
      // Check both levels before taking from either, so a refusal costs no tokens.
      if (!hasPair(st.pair, bytes, nowMs)) return this.#refuse('tenant');
      if (ch !== undefined && !hasPair(ch, bytes, nowMs)) return this.#refuse('channel');
      takePair(st.pair, bytes, nowMs);
      if (ch !== undefined) takePair(ch, bytes, nowMs);
    }
    const u = this.#usageOf(tenant);
    u.messages++;
    u.bytes += bytes;
    return 'ok';
  }

  /** One connection attempt from `ip` (before the token is checked). */
  admitConnectionAttempt(ip: string, nowMs: number): AdmitResult {
    if (this.#ipRate <= 0) return 'ok';
    let b = this.#ips.get(ip);
    if (b === undefined) {
      if (this.#ips.size >= this.#maxBuckets) sweep(this.#ips, nowMs, (x) => x.isFull(nowMs));
      b = new TokenBucket(this.#ipRate, this.#ipBurst, nowMs);
      this.#ips.set(ip, b);
    }
    return b.take(1, nowMs) ? 'ok' : this.#refuse('ip');
  }

  /**
   * A connection holding a ticket for `tenants` opens: refused if any tenant is at its
   * connection limit. On 'ok' the caller must call closeConnection with the same tenants.
   */
  openConnection(tenants: readonly string[], nowMs: number): AdmitResult {
    for (const t of tenants) {
      const st = this.#tenants.get(t);
      const max = st?.limits.maxConnections;
      if (st !== undefined && max !== undefined && st.connections >= max) return this.#refuse('connections');
    }
    this.#accrue(nowMs);
    for (const t of tenants) this.#state(t, nowMs).connections++;
    return 'ok';
  }

  closeConnection(tenants: readonly string[], nowMs: number): void {
    this.#accrue(nowMs);
    for (const t of tenants) {
      const st = this.#tenants.get(t);
      if (st !== undefined && st.connections > 0) st.connections--;
    }
  }

  connections(tenant: string): number {
    return this.#tenants.get(tenant)?.connections ?? 0;
  }

  /** Cumulative usage per tenant since this PoP started (connection time accrued to `nowMs`). */
  usage(nowMs: number): Record<string, TenantUsage> {
    this.#accrue(nowMs);
    const out: Record<string, TenantUsage> = {};
    for (const [t, u] of this.#usage) out[t] = { ...u };
    return out;
  }

  /** Refusals so far by scope (for the rate_limited counter, read on scrape). */
  get refused(): Readonly<Record<LimitScope, number>> {
    return this.#refused;
  }

  #refuse(scope: LimitScope): AdmitResult {
    this.#refused[scope]++;
    return 'rate_limited';
  }

  #accrue(nowMs: number): void {
    const last = this.#connClockMs ?? nowMs;
    const dt = Math.max(0, nowMs - last);
    this.#connClockMs = Math.max(last, nowMs);
    if (dt === 0) return;
    for (const [t, st] of this.#tenants) if (st.connections > 0) this.#usageOf(t).connectionMs += st.connections * dt;
  }

  #usageOf(tenant: string): TenantUsage {
    let u = this.#usage.get(tenant);
    if (u === undefined) {
      u = { messages: 0, bytes: 0, connectionMs: 0 };
      this.#usage.set(tenant, u);
    }
    return u;
  }

  #state(tenant: string, nowMs: number): TenantState {
    let st = this.#tenants.get(tenant);
    if (st === undefined) {
      st = { limits: EMPTY, pair: bucketsFor(undefined, 1, nowMs), channels: new Map(), connections: 0, overQuota: false };
      this.#tenants.set(tenant, st);
    }
    return st;
  }
}

function hasPair(p: Pair, bytes: number, nowMs: number): boolean {
  return (p.msgs === undefined || p.msgs.has(1, nowMs)) && (p.bytes === undefined || p.bytes.has(bytes, nowMs));
}

/** Drops idle entries; if none is idle, drops the oldest half so memory stays bounded. */
function sweep<V>(map: Map<string, V>, _nowMs: number, idle: (v: V) => boolean): void {
  const before = map.size;
  for (const [k, v] of map) if (idle(v)) map.delete(k);
  if (map.size < before) return;
  let n = Math.floor(map.size / 2);
  if (n === 0) return;
  for (const k of map.keys()) {
    if (n-- <= 0) break;
    map.delete(k);
  }
}
