// One simulation run: build the world, let the routers converge, measure the overlay, the
// steady control traffic, then break the busiest links one at a time and finally the busiest
// relay PoP. Deterministic for a given seed (simulated clock, seeded PRNG, ordered events).

import { CITIES, type City } from './cities.js';
import { busiest, failLink, killNode, overlayStats, routesValid, steadyTraffic, type Convergence, type OverlayStats, type Traffic } from './measure.js';
import { BRIEF_MODEL, buildWorld, type InflationModel } from './world.js';

export interface RunOptions {
  readonly seed: number;
  readonly cities?: readonly City[];
  readonly model?: InflationModel;
  /** Simulated warm-up before measuring, ms. */
  readonly warmupMs?: number;
  readonly trafficWindowMs?: number;
  /** How many of the busiest links to break (one at a time, restored in between). */
  readonly linkFailures?: number;
  readonly nodeFailure?: boolean;
  readonly measurement?: 'instant' | 'probe';
}

export interface RunResult {
  readonly pops: number;
  readonly links: number;
  readonly detourPairs: number;
  readonly model: InflationModel;
  readonly convergedAtMs: number;
  readonly overlay: OverlayStats;
  readonly traffic: Traffic | undefined;
  readonly linkFailures: Convergence[];
  readonly nodeFailure: Convergence | undefined;
}

/** Router settings used by the simulation: the production defaults, spelled out. */
export const SIM_ROUTER = { advertIntervalMs: 1000, switchHoldMs: 2000, switchMarginMs: 1, switchMarginRatio: 0.05, hopCostMs: 0.5 };
export const SIM_PROBE_INTERVAL_MS = 200;

export function runSimulation(o: RunOptions): RunResult {
  const cities = o.cities ?? CITIES;
  const model = o.model ?? BRIEF_MODEL;
  const measurement = o.measurement ?? 'probe';
  const world = buildWorld({
    seed: o.seed,
    cities,
    model,
    router: SIM_ROUTER,
    measurement,
    probeIntervalMs: SIM_PROBE_INTERVAL_MS,
    countBytes: (o.trafficWindowMs ?? 0) > 0,
  });
  const { net } = world;
  // Converged = every pair routed, then the warm-up lets hysteresis holds and metric
  // smoothing settle before anything is measured.
  let convergedAtMs = Infinity;
  while (net.now < (o.warmupMs ?? 10_000)) {
    net.runUntil(net.now + 50);
    if (convergedAtMs === Infinity && routesValid(world)) convergedAtMs = net.now;
  }
  const overlay = overlayStats(world, SIM_ROUTER.hopCostMs);
  const traffic = (o.trafficWindowMs ?? 0) > 0 ? steadyTraffic(world, o.trafficWindowMs as number) : undefined;
  const linkFailures: Convergence[] = [];
  const { links: busy, relays } = busiest(world);
  // The links carrying the most routes are the interesting ones to break.
  for (const [a, b] of busy.slice(0, o.linkFailures ?? 0)) {
    linkFailures.push(failLink(world, a, b));
    net.runUntil(net.now + 2000);
    net.restoreLink(a, b);
    net.runUntil(net.now + 4000 + SIM_ROUTER.switchHoldMs);
  }
  let nodeFailure: Convergence | undefined;
  const relay = relays[0]?.[0];
  if (o.nodeFailure === true && relay !== undefined) nodeFailure = killNode(world, relay);
  let detourPairs = 0;
  for (const l of world.links.values()) if (l.detour) detourPairs++;
  return {
    pops: cities.length,
    links: world.links.size,
    detourPairs,
    model,
    convergedAtMs,
    overlay,
    traffic,
    linkFailures,
    nodeFailure,
  };
}
