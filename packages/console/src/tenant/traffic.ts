// The tenant's traffic as the PoPs report it (tenant-stats messages, one per PoP per second):
// the latest report per PoP, summed into a per-second series for the chart. Pure.

export interface ChannelRate {
  channel: string;
  messagesPerSec: number;
  bytesPerSec: number;
}

export interface StatsReport {
  pop: string;
  ts: number;
  messagesPerSec: number;
  bytesPerSec: number;
  connections: number;
  topChannels: ChannelRate[];
}

/** A PoP's report older than this no longer counts in the totals. */
const FRESH_MS = 2500;
const SERIES_SECONDS = 60;

export class Traffic {
  readonly #latest = new Map<string, StatsReport & { seenAt: number }>();
  /** [second, messages/s] for the last SERIES_SECONDS seconds. */
  readonly series: [number, number][] = [];

  add(r: StatsReport, now: number): void {
    this.#latest.set(r.pop, { ...r, seenAt: now });
    const second = Math.floor(now / 1000);
    const total = this.totals(now).messagesPerSec;
    const last = this.series[this.series.length - 1];
    if (last !== undefined && last[0] === second) last[1] = total;
    else this.series.push([second, total]);
    while (this.series.length > SERIES_SECONDS) this.series.shift();
  }

  totals(now: number): { messagesPerSec: number; bytesPerSec: number; connections: number } {
    let m = 0;
    let b = 0;
    let c = 0;
    for (const r of this.fresh(now)) {
      m += r.messagesPerSec;
      b += r.bytesPerSec;
      c += r.connections;
    }
    return { messagesPerSec: m, bytesPerSec: b, connections: c };
  }

  /** Channels in the PoPs' current top lists, summed over PoPs, busiest first, filtered by `search`. */
  channels(now: number, search: string, limit: number): (ChannelRate & { pops: string[] })[] {
    const sum = new Map<string, ChannelRate & { pops: string[] }>();
    for (const r of this.fresh(now)) {
      for (const c of r.topChannels) {
        if (search !== '' && !c.channel.includes(search)) continue;
        const s = sum.get(c.channel) ?? { channel: c.channel, messagesPerSec: 0, bytesPerSec: 0, pops: [] };
        s.messagesPerSec += c.messagesPerSec;
        s.bytesPerSec += c.bytesPerSec;
        s.pops.push(r.pop);
        sum.set(c.channel, s);
      }
    }
    return [...sum.values()].sort((a, b) => b.messagesPerSec - a.messagesPerSec).slice(0, limit);
  }

  fresh(now: number): StatsReport[] {
    return [...this.#latest.values()].filter((r) => now - r.seenAt <= FRESH_MS);
  }
}

export function decodeStats(payload: Uint8Array): StatsReport | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    const n = (k: string): number | undefined => (typeof v[k] === 'number' && Number.isFinite(v[k]) && (v[k]) >= 0 ? (v[k]) : undefined);
    const pop = typeof v['pop'] === 'string' && v['pop'].length <= 128 ? v['pop'] : undefined;
    const ts = n('ts');
    const m = n('messagesPerSec');
    const b = n('bytesPerSec');
    const c = n('connections');
    if (v['kind'] !== 'tenant-stats' || pop === undefined || ts === undefined || m === undefined || b === undefined || c === undefined) return undefined;
    const top: ChannelRate[] = [];
    for (const x of Array.isArray(v['topChannels']) ? v['topChannels'].slice(0, 50) : []) {
      const o = x as Record<string, unknown>;
      if (typeof o['channel'] !== 'string' || o['channel'].length > 256) continue;
      const xm = Number(o['messagesPerSec']);
      const xb = Number(o['bytesPerSec']);
      if (!Number.isFinite(xm) || !Number.isFinite(xb)) continue;
      top.push({ channel: o['channel'], messagesPerSec: xm, bytesPerSec: xb });
    }
    return { pop, ts, messagesPerSec: m, bytesPerSec: b, connections: c, topChannels: top };
  } catch {
    return undefined;
  }
}
