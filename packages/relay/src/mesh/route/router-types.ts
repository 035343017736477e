// The router's options, its outputs (routes, changes, adverts) and the per-neighbour and
// per-destination records it keeps. The logic is in router.ts.

import { MESH_DEFAULTS } from '@fastpubsub/core';
import type { AdvertEntry, OutgoingAdvert } from './advert.js';
import { linkCostMs, type LinkMetrics } from './cost.js';

export interface RouterOptions {
  readonly id: string;
  /** Full-table refresh to every neighbour. Default 1000 ms. */
  readonly advertIntervalMs?: number;
  /** Minimum gap between triggered (delta) adverts. Default 50 ms. */
  readonly triggerMinIntervalMs?: number;
  /** A cost change is advertised early only if larger than max(ms, ratio × cost). */
  readonly triggerMarginMs?: number;
  readonly triggerMarginRatio?: number;
  /** Hysteresis: a new next hop must be better by max(ms, ratio × current cost)… */
  readonly switchMarginMs?: number;
  readonly switchMarginRatio?: number;
  /** …continuously for this long. Waived only when the current next hop died. Default 2 s. */
  readonly switchHoldMs?: number;
  /**
   * The shorter hold when the current path itself got worse (by more than the margin) rather
   * than an alternative getting better. Not zero: a spike shorter than this (a GC pause, a
   * scheduling stall on a loaded host, a burst queued behind probes) must not move traffic and
   * reorder it; a real degradation still moves it within this time. Default 500 ms.
   */
  readonly degradedHoldMs?: number;
  /** Added per intermediate relay (forwarding work in user space). Default 0.5 ms. */
  readonly hopCostMs?: number;
  /** A neighbour's routes expire if it sends no advert for this long. Default 3.5 × interval. */
  readonly routeTimeoutMs?: number;
  /** How long a broken destination keeps being advertised as broken. Default 60 s. */
  readonly forgetAfterMs?: number;
  /** Own starting sequence number (rounded up to even); e.g. from a boot counter. Default 0. */
  readonly initialSeq?: number;
  /** Link cost changes up to max(this, 0.5 %) are not acted on. Default 0.1 ms. */
  readonly metricEpsilonMs?: number;
  /** Link cost function; default linkCostMs. */
  readonly linkCost?: (m: LinkMetrics) => number;
}

/** RouterOptions with every default applied (the hysteresis defaults are the mesh config's). */
export interface ResolvedRouterOptions {
  readonly advertIntervalMs: number;
  readonly triggerMinIntervalMs: number;
  readonly triggerMarginMs: number;
  readonly triggerMarginRatio: number;
  readonly switchMarginMs: number;
  readonly switchMarginRatio: number;
  readonly switchHoldMs: number;
  readonly degradedHoldMs: number;
  readonly hopCostMs: number;
  readonly routeTimeoutMs: number;
  readonly forgetAfterMs: number;
  readonly costOf: (m: LinkMetrics) => number;
  readonly metricEpsilonMs: number;
}

export function resolveRouterOptions(o: RouterOptions): ResolvedRouterOptions {
  const advertIntervalMs = o.advertIntervalMs ?? 1000;
  const switchHoldMs = o.switchHoldMs ?? MESH_DEFAULTS.switchHoldMs;
  return {
    advertIntervalMs,
    triggerMinIntervalMs: o.triggerMinIntervalMs ?? 50,
    triggerMarginMs: o.triggerMarginMs ?? 1,
    triggerMarginRatio: o.triggerMarginRatio ?? 0.05,
    switchMarginMs: o.switchMarginMs ?? MESH_DEFAULTS.switchMarginMs,
    switchMarginRatio: o.switchMarginRatio ?? MESH_DEFAULTS.switchMarginRatio,
    switchHoldMs,
    degradedHoldMs: Math.min(o.degradedHoldMs ?? 500, switchHoldMs),
    hopCostMs: o.hopCostMs ?? 0.5,
    routeTimeoutMs: o.routeTimeoutMs ?? 3.5 * advertIntervalMs,
    forgetAfterMs: o.forgetAfterMs ?? 60_000,
    costOf: o.linkCost ?? linkCostMs,
    metricEpsilonMs: o.metricEpsilonMs ?? 0.1,
  };
}

export interface Route {
  readonly dest: string;
  readonly nextHop: string;
  /** Path cost in ms (sum of link costs plus hop costs). */
  readonly cost: number;
  /** [self, nextHop, …, dest]. */
  readonly path: readonly string[];
  readonly seq: number;
  /** Cost of the direct link to dest, when there is one that is up. */
  readonly directCost: number | undefined;
  /** When the current next hop was chosen. */
  readonly sinceMs: number;
}

export interface RouteChange {
  readonly dest: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly cost: number;
  readonly atMs: number;
}

export interface NeighbourInfo {
  readonly id: string;
  readonly cost: number;
  readonly metrics: LinkMetrics;
}

export interface TickResult {
  readonly adverts: OutgoingAdvert[];
  readonly changes: RouteChange[];
}

/** @internal */
export interface Neighbour {
  metrics: LinkMetrics;
  cost: number;
  rib: Map<string, AdvertEntry>;
  lastHeardAt: number;
  needsFull: boolean;
}

/** @internal */
export interface Selected {
  nextHop: string;
  cost: number;
  path: readonly string[];
  /** The advertised path `path` was built from (identity check saves rebuilding it). */
  tail: readonly string[] | undefined;
  seq: number;
  sinceMs: number;
  /** Best cost seen on this next hop since it was chosen: "got worse" is measured from here. */
  refCost: number;
  /** Since when some other next hop has been better by the margin. */
  betterSince: number | undefined;
  /** When the pending switch may happen (betterSince + the hold that applies); else undefined. */
  holdDeadline: number | undefined;
}

/** @internal */
export interface Candidate {
  via: string;
  cost: number;
  /** The neighbour's advertised path ([via, …, dest]); undefined for the direct link. */
  tail: readonly string[] | undefined;
  seq: number;
}

/** @internal */
export interface Advertised {
  seq: number;
  cost: number;
  path: readonly string[];
}

/** @internal */
export function samePath(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
