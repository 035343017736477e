// Decodes the network-state messages PoPs publish on the system tenant (docs/console.md).
// Everything arrives from the network: each field is checked and anything malformed is
// dropped, so the rest of the page only ever sees well-typed values.

export interface HealthMsg {
  kind: 'health';
  pop: string;
  status: 'up' | 'stopping';
  region: string;
  city: string | null;
  lat: number | null;
  lon: number | null;
  ts: number;
  connections: number;
}

export interface LinkEntry {
  peer: string;
  up: boolean;
  rttMs: number | null;
  jitterMs: number | null;
  loss: number | null;
}

export interface LinksMsg {
  kind: 'links';
  pop: string;
  ts: number;
  links: LinkEntry[];
}

export interface RouteEntry {
  dest: string;
  path: string[];
  pathLatencyMs: number;
  directLatencyMs: number | null;
}

export interface RoutesMsg {
  kind: 'routes';
  pop: string;
  ts: number;
  routes: RouteEntry[];
}

export type NetMsg = HealthMsg | LinksMsg | RoutesMsg;

const MAX_ITEMS = 256;
const MAX_TEXT = 128;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const numOrNull = (v: unknown): number | null | undefined => (v === null ? null : num(v));

export function decodeNetMsg(payload: Uint8Array): NetMsg | undefined {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return undefined;
  }
  if (!isObj(v)) return undefined;
  const pop = text(v['pop']);
  const ts = num(v['ts']);
  if (pop === undefined || ts === undefined) return undefined;
  switch (v['kind']) {
    case 'health': {
      const status = v['status'] === 'up' || v['status'] === 'stopping' ? v['status'] : undefined;
      const lat = numOrNull(v['lat']);
      const lon = numOrNull(v['lon']);
      if (status === undefined || lat === undefined || lon === undefined) return undefined;
      const city = v['city'] === null ? null : (text(v['city']) ?? null);
      return { kind: 'health', pop, status, region: text(v['region']) ?? '', city, lat, lon, ts, connections: num(v['connections']) ?? 0 };
    }
    case 'links': {
      if (!Array.isArray(v['links'])) return undefined;
      const links: LinkEntry[] = [];
      for (const l of v['links'].slice(0, MAX_ITEMS)) {
        if (!isObj(l)) continue;
        const peer = text(l['peer']);
        const rttMs = numOrNull(l['rttMs']);
        const jitterMs = numOrNull(l['jitterMs']);
        const loss = numOrNull(l['loss']);
        if (peer === undefined || typeof l['up'] !== 'boolean' || rttMs === undefined || jitterMs === undefined || loss === undefined) continue;
        links.push({ peer, up: l['up'], rttMs, jitterMs, loss });
      }
      return { kind: 'links', pop, ts, links };
    }
    case 'routes': {
      if (!Array.isArray(v['routes'])) return undefined;
      const routes: RouteEntry[] = [];
      for (const r of v['routes'].slice(0, MAX_ITEMS)) {
        if (!isObj(r) || !Array.isArray(r['path'])) continue;
        const dest = text(r['dest']);
        const path = r['path'].slice(0, 16).map(text);
        const pathLatencyMs = num(r['pathLatencyMs']);
        const directLatencyMs = numOrNull(r['directLatencyMs']);
        if (dest === undefined || pathLatencyMs === undefined || directLatencyMs === undefined || path.some((p) => p === undefined)) continue;
        routes.push({ dest, path: path as string[], pathLatencyMs, directLatencyMs });
      }
      return { kind: 'routes', pop, ts, routes };
    }
    default:
      return undefined;
  }
}
