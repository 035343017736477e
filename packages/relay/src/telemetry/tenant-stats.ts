// Publishes each active tenant's traffic at this PoP (messages/s, bytes/s, connections) once a
// second on the system tenant's `tenant.<tenant>.stats.<pop>` channel, which only that tenant's
// console token may read. One last zero report after a tenant goes quiet, then silence.
import { SYSTEM_TENANT, tenantStatsChannel, type TenantStatsMessage } from '@fastpubsub/protocol';
import { topChannels, type TenantChannels } from './channel-counter.js';

/** Tenant traffic is reported this often, ms. */
const SYSTEM_TENANT_STATS_INTERVAL_MS = 1000;
/** Busiest channels per tenant in each report. */
const TOP_CHANNELS = 20;

export interface TenantStatsOptions {
  pop: string;
  /** Cumulative per-tenant counters of this process (limits/ Admission.usage). */
  usage: () => Record<string, { messages: number; bytes: number }>;
  connections: (tenant: string) => number;
  publish: (channel: string, payload: Uint8Array) => void;
  now: () => number;
  intervalMs?: number;
  /** Per-channel counts of the interval (a ChannelCounter's drain), for the top-N. */
  channels?: () => Map<string, TenantChannels>;
}

export class TenantStatsPublisher {
  readonly #o: TenantStatsOptions;
  readonly #encoder = new TextEncoder();
  #last: Record<string, { messages: number; bytes: number }> = {};
  #lastAt = 0;
  readonly #active = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(o: TenantStatsOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#last = this.#o.usage();
    this.#lastAt = this.#o.now();
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
    const channels = this.#o.channels?.() ?? new Map<string, TenantChannels>();
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
      const msg: TenantStatsMessage = {
        kind: 'tenant-stats',
        pop: this.#o.pop,
        tenant,
        ts: now,
        messagesPerSec: round(messages / seconds),
        bytesPerSec: round(bytes / seconds),
        connections,
        topChannels: topChannels(channels.get(tenant), TOP_CHANNELS).map((c) => ({
          channel: c.channel,
          messagesPerSec: round(c.messages / seconds),
          bytesPerSec: round(c.bytes / seconds),
        })),
        channelsSeen: channels.get(tenant)?.counted.size ?? 0,
        otherMessagesPerSec: round((channels.get(tenant)?.otherMessages ?? 0) / seconds),
      };
      this.#o.publish(tenantStatsChannel(tenant, this.#o.pop), this.#encoder.encode(JSON.stringify(msg)));
    }
    this.#last = usage;
    this.#lastAt = now;
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
