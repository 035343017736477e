// What the simulation reports: overlay-versus-direct statistics over every ordered PoP pair,
// convergence after failures (polling the routers' own tables), and control traffic.

import type { RouterNetwork } from './netsim.js';
import type { World } from './world.js';

export interface OverlayStats {
  readonly pairs: number;
  /** Share of pairs whose route beats the direct link by > 1 ms. */
  readonly share1ms: number;
  /** Share beating it by > 1 ms and > 5 % (the "improved" set used below). */
  readonly shareImproved: number;
  readonly medianWinMs: number;
  readonly p90WinMs: number;
  /** Same, in true propagation delay (what the emulated wire does, not what probes saw). */
  readonly shareImprovedTrue: number;
  readonly medianWinTrueMs: number;
  readonly relayedShare: number;
  readonly maxHops: number;
  /** Routes costlier than the direct link by more than the switch margin (should be 0). */
  readonly worseThanDirect: number;
  /** Routes costlier than the direct link at all (within the margin: hysteresis at work). */
  readonly slightlyWorse: number;
  /** Routes within the switch margin of the optimum over the measured link costs. */
  readonly optimalShare: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export function overlayStats(world: World, hopCostMs = 0.5): OverlayStats {
  const { net, ids } = world;
  const alive = ids.filter((i) => net.isAlive(i));
  const optimum = shortestCosts(net, alive, hopCostMs);
  const wins: number[] = [];
  const winsTrue: number[] = [];
  let pairs = 0;
  let better1 = 0;
  let relayed = 0;
  let maxHops = 0;
  let worse = 0;
  let slight = 0;
  let optimal = 0;
  for (const a of alive) {
    for (const b of alive) {
      if (a === b) continue;
      const r = net.router(a).route(b);
      if (r === undefined || r.directCost === undefined) continue;
      pairs++;
      const win = r.directCost - r.cost;
      if (win > 1) better1++;
      if (win > 1 && win > 0.05 * r.directCost) wins.push(win);
      if (r.path.length > 2) relayed++;
      maxHops = Math.max(maxHops, r.path.length - 1);
      if (r.cost > r.directCost + 1e-9) slight++;
      if (r.directCost < r.cost - Math.max(1, 0.05 * r.cost) - 1e-9) worse++;
      const best = optimum.get(`${a}>${b}`) ?? Infinity;
      if (r.cost <= best + Math.max(1, 0.05 * r.cost) + 1e-9) optimal++;
      const direct = net.trueLink(a, b)?.oneWayMs ?? Infinity;
      let along = 0;
      for (let i = 1; i < r.path.length; i++) along += net.trueLink(r.path[i - 1] as string, r.path[i] as string)?.oneWayMs ?? Infinity;
      const trueWin = direct - along;
      if (trueWin > 1 && trueWin > 0.05 * direct) winsTrue.push(trueWin);
    }
  }
  wins.sort((x, y) => x - y);
  winsTrue.sort((x, y) => x - y);
  return {
    pairs,
    share1ms: better1 / pairs,
    shareImproved: wins.length / pairs,
    medianWinMs: quantile(wins, 0.5),
    p90WinMs: quantile(wins, 0.9),
    shareImprovedTrue: winsTrue.length / pairs,
    medianWinTrueMs: quantile(winsTrue, 0.5),
    relayedShare: relayed / pairs,
    maxHops,
    worseThanDirect: worse,
    slightlyWorse: slight,
    optimalShare: optimal / pairs,
  };
}

/** Floyd–Warshall over the routers' own link costs (what they measured), plus hop cost. */
function shortestCosts(net: RouterNetwork, ids: readonly string[], hopCostMs: number): Map<string, number> {
  const n = ids.length;
  const idx = new Map(ids.map((id, i) => [id, i]));
  const d = new Float64Array(n * n).fill(Infinity);
  for (const [i, id] of ids.entries()) {
    d[i * n + i] = 0;
    for (const nb of net.router(id).neighbours()) {
      const j = idx.get(nb.id);
      if (j !== undefined) d[i * n + j] = nb.cost;
    }
  }
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++) {
      const ik = d[i * n + k] as number;
      if (ik === Infinity || i === k) continue;
      for (let j = 0; j < n; j++) {
        if (j === k || j === i) continue;
        const via = ik + hopCostMs + (d[k * n + j] as number);
        if (via < (d[i * n + j] as number)) d[i * n + j] = via;
      }
    }
  const out = new Map<string, number>();
  for (const [i, a] of ids.entries()) for (const [j, b] of ids.entries()) out.set(`${a}>${b}`, d[i * n + j] as number);
  return out;
}

/** Every live pair has a route, and no route crosses a dead link or a dead PoP. */
export function routesValid(world: World): boolean {
  const { net, ids } = world;
  const alive = ids.filter((i) => net.isAlive(i));
  for (const a of alive) {
    const r = net.router(a);
    for (const b of alive) {
      if (a === b) continue;
      const route = r.route(b);
      if (route === undefined) return false;
      for (let i = 1; i < route.path.length; i++) {
        if (!net.isLinkUp(route.path[i - 1] as string, route.path[i] as string)) return false;
      }
    }
    for (const dead of ids) if (!net.isAlive(dead) && r.route(dead) !== undefined) return false;
  }
  return true;
}

export interface Convergence {
  readonly what: string;
  /** Failure → first router notices (probe timeout). */
  readonly detectMs: number;
  /** Failure → every table valid again (includes detection). */
  readonly convergedMs: number;
  /** Route changes caused, network-wide. */
  readonly routeChanges: number;
}

/** Runs until every table is valid and some router noticed the failure; returns both times. */
function waitFor(world: World, t0: number, down0: number, limitMs: number, stepMs = 5): { valid: number; detect: number } {
  const { net } = world;
  let valid = Infinity;
  let detect = Infinity;
  while (net.now < t0 + limitMs && (valid === Infinity || detect === Infinity)) {
    net.runUntil(net.now + stepMs);
    if (valid === Infinity && routesValid(world)) valid = net.now;
    detect = net.downEvents[down0]?.atMs ?? Infinity;
  }
  return { valid: valid - t0, detect: detect - t0 };
}

export function failLink(world: World, a: string, b: string, limitMs = 10_000): Convergence {
  const { net } = world;
  const t0 = net.now;
  const changes0 = net.changes.length;
  const down0 = net.downEvents.length;
  net.failLink(a, b);
  const w = waitFor(world, t0, down0, limitMs);
  return { what: `link ${a}–${b}`, detectMs: w.detect, convergedMs: w.valid, routeChanges: net.changes.length - changes0 };
}

export function killNode(world: World, id: string, limitMs = 10_000): Convergence {
  const { net } = world;
  const t0 = net.now;
  const changes0 = net.changes.length;
  const down0 = net.downEvents.length;
  net.killNode(id);
  const w = waitFor(world, t0, down0, limitMs);
  return { what: `PoP ${id}`, detectMs: w.detect, convergedMs: w.valid, routeChanges: net.changes.length - changes0 };
}

/** Links and relays carrying the most routes right now (the interesting ones to break). */
export function busiest(world: World): { links: Array<[string, string, number]>; relays: Array<[string, number]> } {
  const { net, ids } = world;
  const linkUse = new Map<string, number>();
  const relayUse = new Map<string, number>();
  for (const a of ids) {
    for (const r of net.router(a).routes()) {
      for (let i = 1; i < r.path.length; i++) {
        const x = r.path[i - 1] as string;
        const y = r.path[i] as string;
        const k = x < y ? `${x} ${y}` : `${y} ${x}`;
        linkUse.set(k, (linkUse.get(k) ?? 0) + 1);
        if (i < r.path.length - 1) relayUse.set(y, (relayUse.get(y) ?? 0) + 1);
      }
    }
  }
  const links = [...linkUse]
    .filter(([k]) => net.isLinkUp(...(k.split(' ') as [string, string])))
    .sort((p, q) => q[1] - p[1] || (p[0] < q[0] ? -1 : 1))
    .map(([k, n]): [string, string, number] => [...(k.split(' ') as [string, string]), n]);
  const relays = [...relayUse].sort((p, q) => q[1] - p[1] || (p[0] < q[0] ? -1 : 1));
  return { links, relays };
}

export interface Traffic {
  readonly advertsPerSec: number;
  readonly bytesPerSec: number;
  readonly entriesPerAdvert: number;
}

/** Mean per-PoP control traffic (sent) over a quiet window. */
export function steadyTraffic(world: World, windowMs: number): Traffic {
  const { net, ids } = world;
  const before = new Map(ids.map((id) => [id, { ...(net.stats.get(id) as { adverts: number; bytes: number; entries: number }) }]));
  net.runUntil(net.now + windowMs);
  let adverts = 0;
  let bytes = 0;
  let entries = 0;
  for (const id of ids) {
    const s = net.stats.get(id) as { adverts: number; bytes: number; entries: number };
    const b = before.get(id) as { adverts: number; bytes: number; entries: number };
    adverts += s.adverts - b.adverts;
    bytes += s.bytes - b.bytes;
    entries += s.entries - b.entries;
  }
  const secs = windowMs / 1000;
  return { advertsPerSec: adverts / ids.length / secs, bytesPerSec: bytes / ids.length / secs, entriesPerAdvert: entries / Math.max(1, adverts) };
}
