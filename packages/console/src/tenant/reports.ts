// Decoding the parts of a PoP's tenant report beyond the traffic figures: the tenant's clients
// (by country, by User-Agent class, bot-flagged connections) and the PoP's delivery figures
// (drops by reason, rate-limit refusals, latency histogram). Defensive: wrong types, oversized
// maps and strings are dropped, so a bad message can never break the page. Pure.

export interface FlaggedRow {
  id: number;
  edge: string;
  country: string;
  agent: string;
  tokenId: string;
  flags: string[];
}

export interface ClientsReport {
  countries: Record<string, number>;
  agents: Record<string, number>;
  flagged: FlaggedRow[];
}

export interface PopFiguresReport {
  dropsPerSec: Record<string, number>;
  refusalsPerSec: Record<string, number>;
  latencyBoundsMs: number[];
  latencyCounts: number[];
}

const MAX_KEYS = 300;
const short = (x: unknown, max = 64): string | undefined => (typeof x === 'string' && x.length <= max ? x : undefined);

/** A `{name: number}` map with at most MAX_KEYS short names and finite non-negative values. */
export function counts(x: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return out;
  for (const [k, v] of Object.entries(x).slice(0, MAX_KEYS)) {
    if (k.length <= 64 && typeof v === 'number' && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  return out;
}

export function decodeClients(v: Record<string, unknown>): ClientsReport {
  const flagged: FlaggedRow[] = [];
  for (const x of Array.isArray(v['flagged']) ? v['flagged'].slice(0, 50) : []) {
    const o = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
    const id = Number(o['id']);
    const edge = short(o['edge']);
    const country = short(o['country']);
    const agent = short(o['agent']);
    const tokenId = short(o['tokenId'], 128);
    const flags = Array.isArray(o['flags']) ? o['flags'].filter((f): f is string => short(f) !== undefined).slice(0, 8) : [];
    if (!Number.isFinite(id) || edge === undefined || country === undefined || agent === undefined || tokenId === undefined) continue;
    flagged.push({ id, edge, country, agent, tokenId, flags });
  }
  return { countries: counts(v['countries']), agents: counts(v['agents']), flagged };
}

export function decodePopFigures(x: unknown): PopFiguresReport | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const o = x as Record<string, unknown>;
  const numbers = (a: unknown): number[] | undefined =>
    Array.isArray(a) && a.length <= 64 && a.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0) ? (a as number[]) : undefined;
  const bounds = numbers(o['latencyBoundsMs']);
  const latency = numbers(o['latencyCounts']);
  if (bounds === undefined || latency === undefined || latency.length !== bounds.length + 1) return undefined;
  return { dropsPerSec: counts(o['dropsPerSec']), refusalsPerSec: counts(o['refusalsPerSec']), latencyBoundsMs: bounds, latencyCounts: latency };
}
