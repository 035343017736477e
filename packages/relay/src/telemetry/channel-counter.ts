// Per-tenant channel rates for the console's top-N, with bounded memory: per tenant and per
// interval, the first MAX_CHANNELS distinct channels are counted exactly and the rest only in
// an `other` total (a channel hot enough to matter shows up early in every interval), and at
// most MAX_TENANTS tenants are tracked. Drained by the tenant-stats publisher every second.

const MAX_CHANNELS = 1000;
const MAX_TENANTS = 1000;

export interface ChannelCount {
  channel: string;
  messages: number;
  bytes: number;
}

export interface TenantChannels {
  counted: Map<string, ChannelCount>;
  /** Messages on channels beyond the per-interval cap. */
  otherMessages: number;
}

export class ChannelCounter {
  #tenants = new Map<string, TenantChannels>();

  record(tenant: string, channel: string, bytes: number): void {
    let t = this.#tenants.get(tenant);
    if (t === undefined) {
      if (this.#tenants.size >= MAX_TENANTS) return;
      this.#tenants.set(tenant, (t = { counted: new Map(), otherMessages: 0 }));
    }
    const c = t.counted.get(channel);
    if (c !== undefined) {
      c.messages++;
      c.bytes += bytes;
    } else if (t.counted.size < MAX_CHANNELS) {
      t.counted.set(channel, { channel, messages: 1, bytes });
    } else {
      t.otherMessages++;
    }
  }

  /** The interval's counts per tenant, and a fresh interval. */
  drain(): Map<string, TenantChannels> {
    const out = this.#tenants;
    this.#tenants = new Map();
    return out;
  }
}

/** The `n` busiest channels of an interval, by messages then bytes. */
export function topChannels(t: TenantChannels | undefined, n: number): ChannelCount[] {
  if (t === undefined) return [];
  return [...t.counted.values()].sort((a, b) => b.messages - a.messages || b.bytes - a.bytes).slice(0, n);
}
