// Per-tenant and per-channel Prometheus metrics with bounded cardinality: from the last
// second's ChannelCounter interval, the TOP_TENANTS busiest tenants by messages (the rest summed
// as tenant="_other") and, for each of them, the TOP_CHANNELS busiest channels by the
// space-saving sketch (the rest as channel="_other"). At most 21 tenant and 21 × 11 channel
// series, however many tenants and channels there are.
import { Gauge, type Registry } from 'prom-client';
import { OTHER_TENANT, type ChannelCounter, type TenantTraffic } from './channel-counter.js';

const TOP_TENANTS = 20;
const TOP_CHANNELS = 10;
const OTHER = OTHER_TENANT;

export class TrafficMetrics {
  constructor(registry: Registry, counter: ChannelCounter, connections: () => ReadonlyMap<string, number>) {
    const registers = [registry];
    const ranked = (): { top: [string, TenantTraffic][]; rest: TenantTraffic[]; seconds: number } => {
      const { tenants, seconds } = counter.lastInterval();
      const all = [...tenants].filter(([t]) => t !== OTHER).sort((a, b) => b[1].channels.total - a[1].channels.total);
      const rest = all.slice(TOP_TENANTS).map(([, t]) => t);
      const other = tenants.get(OTHER);
      if (other !== undefined) rest.push(other);
      return { top: all.slice(0, TOP_TENANTS), rest, seconds };
    };
    new Gauge({
      name: 'fastpubsub_tenant_messages_per_second',
      help: `Messages published per second over the last second, for the ${TOP_TENANTS} busiest tenants at this PoP (the rest as tenant="_other").`,
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        const { top, rest, seconds } = ranked();
        for (const [tenant, t] of top) this.set({ tenant }, t.channels.total / seconds);
        this.set({ tenant: OTHER }, rest.reduce((sum, t) => sum + t.channels.total, 0) / seconds);
      },
    });
    new Gauge({
      name: 'fastpubsub_tenant_bytes_per_second',
      help: `Payload bytes published per second over the last second, for the ${TOP_TENANTS} busiest tenants (the rest as tenant="_other").`,
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        const { top, rest, seconds } = ranked();
        for (const [tenant, t] of top) this.set({ tenant }, t.channels.totalBytes / seconds);
        this.set({ tenant: OTHER }, rest.reduce((sum, t) => sum + t.channels.totalBytes, 0) / seconds);
      },
    });
    new Gauge({
      name: 'fastpubsub_channel_messages_per_second',
      help: `Messages per second over the last second on each busy tenant's ${TOP_CHANNELS} busiest channels (space-saving estimate; the rest of the tenant as channel="_other").`,
      labelNames: ['tenant', 'channel'],
      registers,
      collect() {
        this.reset();
        const { top, seconds } = ranked();
        for (const [tenant, t] of top) {
          const hot = t.channels.top(TOP_CHANNELS);
          for (const c of hot) this.set({ tenant, channel: c.key }, c.count / seconds);
          this.set({ tenant, channel: OTHER }, Math.max(0, t.channels.total - hot.reduce((s, c) => s + c.count, 0)) / seconds);
        }
      },
    });
    new Gauge({
      name: 'fastpubsub_tenant_connections',
      help: `Open client connections per tenant, for the ${TOP_TENANTS} tenants with the most (the rest as tenant="_other").`,
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        const all = [...connections()].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
        for (const [tenant, n] of all.slice(0, TOP_TENANTS)) this.set({ tenant }, n);
        this.set({ tenant: OTHER }, all.slice(TOP_TENANTS).reduce((s, [, n]) => s + n, 0));
      },
    });
  }
}
