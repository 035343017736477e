// The tenant's traffic as the PoPs report it (tenant-stats messages, one per PoP per second):
// the latest report per PoP, summed into a per-second series for the chart. Pure.
import { decodeClients, decodePopFigures, type ClientsReport, type PopFiguresReport } from './reports.js';

export interface ChannelRate {
  channel: string;
  messagesPerSec: number;
  bytesPerSec: number;
  /** Connections subscribed to it at the reporting PoP. */
  subscribers: number;
}

export interface StatsReport extends ClientsReport {
  pop: string;
  ts: number;
  messagesPerSec: number;
  bytesPerSec: number;
  connections: number;
  topChannels: ChannelRate[];
  topPublishers: { tokenId: string; messagesPerSec: number }[];
  popFigures: PopFiguresReport | undefined;
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
        const s = sum.get(c.channel) ?? { channel: c.channel, messagesPerSec: 0, bytesPerSec: 0, subscribers: 0, pops: [] };
        s.messagesPerSec += c.messagesPerSec;
        s.bytesPerSec += c.bytesPerSec;
        s.subscribers += c.subscribers;
        s.pops.push(r.pop);
        sum.set(c.channel, s);
      }
    }
    return [...sum.values()].sort((a, b) => b.messagesPerSec - a.messagesPerSec).slice(0, limit);
  }

  /** The busiest publishing tokens, summed over PoPs. */
  publishers(now: number, limit: number): { tokenId: string; messagesPerSec: number; pops: string[] }[] {
    const sum = new Map<string, { tokenId: string; messagesPerSec: number; pops: string[] }>();
    for (const r of this.fresh(now)) {
      for (const p of r.topPublishers) {
        const s = sum.get(p.tokenId) ?? { tokenId: p.tokenId, messagesPerSec: 0, pops: [] };
        s.messagesPerSec += p.messagesPerSec;
        s.pops.push(r.pop);
        sum.set(p.tokenId, s);
      }
    }
    return [...sum.values()].sort((a, b) => b.messagesPerSec - a.messagesPerSec).slice(0, limit);
  }

  /** Open connections by country (or by User-Agent class), summed over PoPs, most first. */
  tally(now: number, what: 'countries' | 'agents'): [string, number][] {
    const sum = new Map<string, number>();
    for (const r of this.fresh(now)) for (const [k, n] of Object.entries(r[what])) sum.set(k, (sum.get(k) ?? 0) + n);
    return [...sum].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
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
      const xs = Number(o['subscribers'] ?? 0);
      if (!Number.isFinite(xm) || !Number.isFinite(xb) || !Number.isFinite(xs)) continue;
      top.push({ channel: o['channel'], messagesPerSec: xm, bytesPerSec: xb, subscribers: xs });
    }
    const publishers: StatsReport['topPublishers'] = [];
    for (const x of Array.isArray(v['topPublishers']) ? v['topPublishers'].slice(0, 20) : []) {
      const o = x as Record<string, unknown>;
      const rate = Number(o['messagesPerSec']);
      if (typeof o['tokenId'] === 'string' && o['tokenId'].length <= 128 && Number.isFinite(rate)) publishers.push({ tokenId: o['tokenId'], messagesPerSec: rate });
    }
    return { pop, ts, messagesPerSec: m, bytesPerSec: b, connections: c, topChannels: top, topPublishers: publishers, popFigures: decodePopFigures(v['popFigures']), ...decodeClients(v) };
  } catch {
    return undefined;
  }
}
