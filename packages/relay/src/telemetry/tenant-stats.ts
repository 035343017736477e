// Publishes each active tenant's traffic at this PoP once a second on the system tenant's
// `tenant.<tenant>.stats.<pop>` channel, which only that tenant's console token may read:
// messages/s, bytes/s and connections; the busiest channels with their subscriber counts here
// and the busiest publishers (space-saving sketches, so bounded however many there are); the
// tenant's connections by country and User-Agent class and its bot-flagged connections; and
// the PoP's delivery figures (drops by reason, rate-limit refusals, publish→write latency
// histogram) for the per-PoP charts. One last zero report after a tenant goes quiet, then silence.
import { SYSTEM_TENANT, tenantStatsChannel, type TenantStatsMessage } from '@fastpubsub/protocol';
import type { TenantTraffic } from './channel-counter.js';
import type { FlaggedConnection } from './connections.js';

/** Tenant traffic is reported this often, ms. */
const SYSTEM_TENANT_STATS_INTERVAL_MS = 1000;
/** Busiest channels per tenant in each report. */
const TOP_CHANNELS = 20;
const TOP_PUBLISHERS = 5;

/** Cumulative PoP-wide delivery figures (differences per interval are published). */
export interface PopFigures {
  drops: Record<string, number>;
  refusals: Record<string, number>;
  latencyBoundsMs: number[];
  latencyCounts: number[];
}

export interface TenantStatsOptions {
  pop: string;
  /** Cumulative per-tenant counters of this process (limits/ Admission.usage). */
  usage: () => Record<string, { messages: number; bytes: number }>;
  connections: (tenant: string) => number;
  publish: (channel: string, payload: Uint8Array) => void;
  now: () => number;
  intervalMs?: number;
  /** Per-channel and per-publisher traffic of the interval (a ChannelCounter's drain), for the top-N. */
  channels?: () => Map<string, TenantTraffic>;
  /** Connections here subscribed to a channel of the tenant. */
  subscribers?: (tenant: string, channel: string) => number;
  /** The tenant's open connections: by country, by User-Agent class, and the bot-flagged ones. */
  clients?: {
    countries(tenant: string): Record<string, number>;
    agents(tenant: string): Record<string, number>;
    flagged(tenant: string): FlaggedConnection[];
  };
  /** PoP-wide delivery figures; read asynchronously, so a report carries the previous read. */
  popFigures?: () => Promise<PopFigures>;
}

export class TenantStatsPublisher {
  readonly #o: TenantStatsOptions;
  readonly #encoder = new TextEncoder();
  #last: Record<string, { messages: number; bytes: number }> = {};
  #lastAt = 0;
  readonly #active = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #figures: { at: number; value: PopFigures } | undefined;
  #figuresBefore: { at: number; value: PopFigures } | undefined;

  constructor(o: TenantStatsOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#last = this.#o.usage();
    this.#lastAt = this.#o.now();
    this.#readFigures();
    this.#timer = setInterval(() => this.tick(), this.#o.intervalMs ?? SYSTEM_TENANT_STATS_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  tick(): void {
    const now = this.#o.now();
    const seconds = Math.max(0.001, (now - this.#lastAt) / 1000);
    const usage = this.#o.usage();
    const channels = this.#o.channels?.() ?? new Map<string, TenantTraffic>();
    const pop = this.#popRates();
    for (const [tenant, u] of Object.entries(usage)) {
      if (tenant === SYSTEM_TENANT) continue;
      const before = this.#last[tenant] ?? { messages: 0, bytes: 0 };
      const messages = u.messages - before.messages;
      const bytes = u.bytes - before.bytes;
      const connections = this.#o.connections(tenant);
      const busy = messages > 0 || connections > 0;
      if (!busy && !this.#active.has(tenant)) continue;
      if (busy) this.#active.add(tenant);
      else this.#active.delete(tenant);
      const traffic = channels.get(tenant);
      const hot = traffic?.channels.top(TOP_CHANNELS) ?? [];
      const clients = this.#o.clients;
      const msg: TenantStatsMessage = {
        kind: 'tenant-stats',
        pop: this.#o.pop,
        tenant,
        ts: now,
        messagesPerSec: round(messages / seconds),
        bytesPerSec: round(bytes / seconds),
        connections,
        topChannels: hot.map((c) => ({
          channel: c.key,
          messagesPerSec: round(c.count / seconds),
          bytesPerSec: round(c.bytes / seconds),
          subscribers: this.#o.subscribers?.(tenant, c.key) ?? 0,
        })),
        channelsSeen: traffic?.channels.size ?? 0,
        otherMessagesPerSec: round(Math.max(0, (traffic?.channels.total ?? 0) - hot.reduce((s, c) => s + c.count, 0)) / seconds),
        topPublishers: (traffic?.publishers.top(TOP_PUBLISHERS) ?? []).map((p) => ({ tokenId: p.key, messagesPerSec: round(p.count / seconds) })),
        countries: clients?.countries(tenant) ?? {},
        agents: clients?.agents(tenant) ?? {},
        flagged: clients?.flagged(tenant) ?? [],
        ...(pop === undefined ? {} : { popFigures: pop }),
      };
      this.#o.publish(tenantStatsChannel(tenant, this.#o.pop), this.#encoder.encode(JSON.stringify(msg)));
    }
    this.#last = usage;
    this.#lastAt = now;
    this.#readFigures();
  }

  /** Per-second drops and refusals, and the latency histogram, between the last two reads. */
  #popRates(): TenantStatsMessage['popFigures'] {
    const a = this.#figuresBefore;
    const b = this.#figures;
    if (a === undefined || b === undefined || b.at <= a.at) return undefined;
    const seconds = (b.at - a.at) / 1000;
    const perSec = (x: Record<string, number>, y: Record<string, number>): Record<string, number> =>
      Object.fromEntries(Object.entries(y).map(([k, v]) => [k, round(Math.max(0, v - (x[k] ?? 0)) / seconds)]));
    return {
      dropsPerSec: perSec(a.value.drops, b.value.drops),
      refusalsPerSec: perSec(a.value.refusals, b.value.refusals),
      latencyBoundsMs: b.value.latencyBoundsMs,
      latencyCounts: b.value.latencyCounts.map((c, i) => Math.max(0, c - (a.value.latencyCounts[i] ?? 0))),
    };
  }

  #readFigures(): void {
    const read = this.#o.popFigures;
    if (read === undefined) return;
    read().then(
      (value) => {
        this.#figuresBefore = this.#figures;
        this.#figures = { at: this.#o.now(), value };
      },
      () => undefined, // a failed read leaves the previous figures; the next tick tries again
    );
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
