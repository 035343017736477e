// Per-tenant traffic of one interval (a second) with bounded memory, for the console's top-N
// and the per-tenant / per-channel metrics: each tenant's channels and publishers go through a
// space-saving sketch (the busiest are found however many distinct channels pass), and at most
// MAX_TENANTS tenants are tracked (further tenants count in OTHER_TENANT). Drained by the
// tenant-stats publisher every second; the drained interval stays readable for /metrics.
import { SpaceSaving } from './space-saving.js';

const MAX_TENANTS = 1000;
/** Counters per tenant sketch: the top 20 are reported, the spare ones absorb churn. */
const CHANNEL_COUNTERS = 64;
const PUBLISHER_COUNTERS = 16;
/** Where traffic of tenants beyond MAX_TENANTS is counted. */
export const OTHER_TENANT = '_other';

export interface TenantTraffic {
  /** Channels by messages (weight 1 per publish) with their bytes. */
  channels: SpaceSaving<string>;
  /** Publishers (token ids) by messages. */
  publishers: SpaceSaving<string>;
}

export class ChannelCounter {
  #tenants = new Map<string, TenantTraffic>();
  #last = new Map<string, TenantTraffic>();
  #lastSeconds = 1;
  #startedAt: number;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#startedAt = now();
  }

  record(tenant: string, channel: string, bytes: number, publisher: string | undefined): void {
    let t = this.#tenants.get(tenant);
    if (t === undefined) {
      const key = this.#tenants.size >= MAX_TENANTS ? OTHER_TENANT : tenant;
      t = this.#tenants.get(key);
      if (t === undefined) this.#tenants.set(key, (t = { channels: new SpaceSaving(CHANNEL_COUNTERS), publishers: new SpaceSaving(PUBLISHER_COUNTERS) }));
    }
    t.channels.record(channel, 1, bytes);
    if (publisher !== undefined) t.publishers.record(publisher, 1, bytes);
  }

  /** The interval's traffic per tenant, and a fresh interval. */
  drain(): Map<string, TenantTraffic> {
    const now = this.#now();
    this.#last = this.#tenants;
    this.#lastSeconds = Math.max(0.001, (now - this.#startedAt) / 1000);
    this.#startedAt = now;
    this.#tenants = new Map();
    return this.#last;
  }

  /** The last drained interval and its length in seconds. */
  lastInterval(): { tenants: ReadonlyMap<string, TenantTraffic>; seconds: number } {
    return { tenants: this.#last, seconds: this.#lastSeconds };
  }
}
