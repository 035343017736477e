// Builds a simulated world: PoPs at real city coordinates, a full mesh of links whose one-way
// latency is great-circle distance at the speed of light in fibre times an inflation factor,
// driven by the production Router through the in-memory network harness.

import type { RouterOptions } from '@fastpubsub/relay';
import { RouterNetwork, seededRandom, type SimLinkProps } from './netsim.js';
import { CITIES, greatCircleKm, type City } from './cities.js';

/** Speed of light in fibre: c / ~1.5 refractive index. */
export const FIBRE_KM_PER_MS = 200;

export interface InflationModel {
  readonly name: string;
  /**
   * 'independent': each pair draws its own factor in [min, max] (the brief's model).
   * 'correlated': a per-PoP access factor (shared by all of that PoP's links) times a small
   * per-pair noise, so a well-connected metro is well connected to everyone.
   */
  readonly kind: 'independent' | 'correlated';
  readonly min: number;
  readonly max: number;
  /** Share of pairs that take a detour (BGP detour / congested interconnect). */
  readonly detourShare: number;
  readonly detourMin: number;
  readonly detourMax: number;
}

export const BRIEF_MODEL: InflationModel = {
  name: 'independent 1.2–2.0, 5 % detours ×2.5–4',
  kind: 'independent',
  min: 1.2,
  max: 2.0,
  detourShare: 0.05,
  detourMin: 2.5,
  detourMax: 4,
};

export interface WorldOptions {
  readonly seed: number;
  readonly cities?: readonly City[];
  readonly model?: InflationModel;
  /** Share of links with jitter (0.2–3 ms) and with loss (0.1–2 %). */
  readonly jitterShare?: number;
  readonly lossShare?: number;
  readonly router?: Omit<RouterOptions, 'id'>;
  readonly measurement?: 'instant' | 'probe';
  readonly probeIntervalMs?: number;
  readonly countBytes?: boolean;
}

export interface World {
  readonly net: RouterNetwork;
  readonly ids: string[];
  /** Per unordered pair (a<b): the link's true properties and whether it is a detour pair. */
  readonly links: Map<string, SimLinkProps & { detour: boolean; km: number }>;
}

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

export function buildWorld(o: WorldOptions): World {
  const cities = o.cities ?? CITIES;
  const model = o.model ?? BRIEF_MODEL;
  const rand = seededRandom(o.seed);
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * rand();
  const net = new RouterNetwork({
    router: o.router,
    seed: o.seed + 1,
    measurement: o.measurement ?? 'probe',
    probeIntervalMs: o.probeIntervalMs ?? 200,
    countBytes: o.countBytes ?? false,
  });
  // Access factor per PoP for the correlated model: sqrt so the pair product spans [min, max].
  const access = new Map(cities.map((c) => [c.id, Math.sqrt(uniform(model.min, model.max))]));
  const links = new Map<string, SimLinkProps & { detour: boolean; km: number }>();
  for (const c of cities) net.addNode(c.id);
  for (let i = 0; i < cities.length; i++) {
    for (let j = i + 1; j < cities.length; j++) {
      const a = cities[i] as City;
      const b = cities[j] as City;
      const km = greatCircleKm(a, b);
      let inflation =
        model.kind === 'independent'
          ? uniform(model.min, model.max)
          : (access.get(a.id) as number) * (access.get(b.id) as number) * uniform(0.95, 1.05);
      const detour = rand() < model.detourShare;
      if (detour) inflation = uniform(model.detourMin, model.detourMax);
      // Last-mile and switching floor: even neighbouring metros are not 0 ms apart.
      const oneWayMs = round2(0.5 + (km / FIBRE_KM_PER_MS) * inflation);
      const jitterMs = rand() < (o.jitterShare ?? 0.25) ? round2(uniform(0.2, 3)) : 0;
      const loss = rand() < (o.lossShare ?? 0.05) ? round4(uniform(0.001, 0.02)) : 0;
      const props = { oneWayMs, jitterMs, loss };
      links.set(pairKey(a.id, b.id), { ...props, detour, km });
      net.addLink(a.id, b.id, props);
    }
  }
  return { net, ids: cities.map((c) => c.id), links };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
