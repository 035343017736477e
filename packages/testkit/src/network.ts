// NetworkEmulator: one UdpLinkEmulator per link of a topology, so relays reach each neighbour
// through an emulated link. The topology is plain JSON (read by `fastpubsub dev`).

import type { Clock } from './clock.js';
import type { LinkStats, LinkUpdate } from './link.js';
import { deriveSeed } from './prng.js';
import { UdpLinkEmulator, type UdpAddress } from './udp-link.js';

/** A node of the topology. Extra fields (region, coordinates, relay options) pass through. */
export interface TopologyNode {
  id: string;
  [extra: string]: unknown;
}

/** A link between nodes `a` and `b`. Delay and jitter are one-way, per direction (RTT ≈ 2 × delayMs). */
export interface TopologyLink {
  a: string;
  b: string;
  delayMs: number;
  jitterMs?: number;
  lossRate?: number;
  /** Any other LinkParams (rateBytesPerSec, jitter, reorder, down, …). */
  params?: LinkUpdate;
}

export interface Topology {
  nodes: TopologyNode[];
  links: TopologyLink[];
  /** PRNG seed for every link (each link and direction derives its own stream). */
  seed?: number;
}

export interface NetworkEmulatorOptions {
  /** Local address for the emulator sockets and the nodes' listen address (default 127.0.0.1). */
  host?: string;
  seed?: number;
  clock?: Clock;
}

export interface NetworkLinkStats {
  a: string;
  b: string;
  aToB: LinkStats;
  bToA: LinkStats;
}

/** Validates an untrusted value (e.g. parsed JSON) as a Topology; throws with the offending path. */
export function parseTopology(value: unknown): Topology {
  const fail = (msg: string): never => {
    throw new TypeError(`topology: ${msg}`);
  };
  if (typeof value !== 'object' || value === null) fail('must be an object');
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!['nodes', 'links', 'seed'].includes(k)) fail(`unknown field '${k}'`);
  if (!Array.isArray(v.nodes) || v.nodes.length === 0) fail('nodes must be a non-empty array');
  if (!Array.isArray(v.links)) fail('links must be an array');
  if (v.seed !== undefined && !Number.isInteger(v.seed)) fail('seed must be an integer');
  const ids = new Set<string>();
  (v.nodes as unknown[]).forEach((n, i) => {
    if (typeof n !== 'object' || n === null) fail(`nodes[${i}] must be an object`);
    const id = (n as Record<string, unknown>).id;
    if (typeof id !== 'string' || id === '') fail(`nodes[${i}].id must be a non-empty string`);
    if (ids.has(id as string)) fail(`duplicate node id '${String(id)}'`);
    ids.add(id as string);
  });
  const pairs = new Set<string>();
  (v.links as unknown[]).forEach((l, i) => {
    if (typeof l !== 'object' || l === null) fail(`links[${i}] must be an object`);
    const link = l as Record<string, unknown>;
    for (const k of Object.keys(link)) {
      if (!['a', 'b', 'delayMs', 'jitterMs', 'lossRate', 'params'].includes(k)) fail(`links[${i}]: unknown field '${k}'`);
    }
    const { a, b } = link;
    if (typeof a !== 'string' || !ids.has(a)) fail(`links[${i}].a: unknown node '${String(a)}'`);
    if (typeof b !== 'string' || !ids.has(b)) fail(`links[${i}].b: unknown node '${String(b)}'`);
    if (a === b) fail(`links[${i}]: a node cannot link to itself`);
    const key = pairKey(a as string, b as string);
    if (pairs.has(key)) fail(`links[${i}]: duplicate link ${String(a)}–${String(b)}`);
    pairs.add(key);
    if (typeof link.delayMs !== 'number' || !(link.delayMs >= 0)) fail(`links[${i}].delayMs must be a number >= 0`);
    if (link.jitterMs !== undefined && !(typeof link.jitterMs === 'number' && link.jitterMs >= 0)) {
      fail(`links[${i}].jitterMs must be a number >= 0`);
    }
    if (link.lossRate !== undefined && !(typeof link.lossRate === 'number' && link.lossRate >= 0 && link.lossRate <= 1)) {
      fail(`links[${i}].lossRate must be in [0, 1]`);
    }
    if (link.params !== undefined && (typeof link.params !== 'object' || link.params === null)) {
      fail(`links[${i}].params must be an object`);
    }
  });
  return value as Topology;
}

interface Entry {
  link: TopologyLink;
  emulator: UdpLinkEmulator;
}

export class NetworkEmulator {
  readonly topology: Topology;
  private readonly entries: Map<string, Entry>;

  private constructor(topology: Topology, entries: Map<string, Entry>) {
    this.topology = topology;
    this.entries = entries;
  }

  /**
   * Starts one UdpLinkEmulator per link. `ports` gives each node's real UDP listen port
   * (on `host`). Link parameters are checked here too (a bad one throws, nothing is left open).
   */
  static async start(
    topology: Topology,
    ports: Readonly<Record<string, number>> | ReadonlyMap<string, number>,
    opts: NetworkEmulatorOptions = {},
  ): Promise<NetworkEmulator> {
    parseTopology(topology);
    const host = opts.host ?? '127.0.0.1';
    const seed = opts.seed ?? topology.seed ?? 1;
    const portOf = (id: string): number => {
      const port = isReadonlyMap(ports) ? ports.get(id) : ports[id];
      if (typeof port !== 'number') throw new TypeError(`NetworkEmulator: no UDP port given for node '${id}'`);
      return port;
    };
    const entries = new Map<string, Entry>();
    try {
      for (const [i, link] of topology.links.entries()) {
        const emulator = await UdpLinkEmulator.start({
          a: { host, port: portOf(link.a) },
          b: { host, port: portOf(link.b) },
          link: linkUpdate(link),
          seed: deriveSeed(seed, i),
          host,
          ...(opts.clock === undefined ? {} : { clock: opts.clock }),
        });
        entries.set(pairKey(link.a, link.b), { link, emulator });
      }
    } catch (err) {
      await Promise.all([...entries.values()].map((e) => e.emulator.close()));
      throw err;
    }
    return new NetworkEmulator(topology, entries);
  }

  /** The address node `from` should dial (send to) to reach neighbour `to` through the emulated link. */
  addressFor(from: string, to: string): UdpAddress {
    const { link, emulator } = this.entry(from, to);
    return { ...(link.a === from ? emulator.addressForA : emulator.addressForB) };
  }

  /** The nodes `id` has a link to. */
  neighbours(id: string): string[] {
    const out: string[] = [];
    for (const { link } of this.entries.values()) {
      if (link.a === id) out.push(link.b);
      else if (link.b === id) out.push(link.a);
    }
    return out;
  }

  /** Changes the link between `a` and `b` in both directions (or only `a`→`b` with oneWay). */
  setLink(a: string, b: string, params: LinkUpdate, opts: { oneWay?: boolean } = {}): void {
    const { link, emulator } = this.entry(a, b);
    if (opts.oneWay === true) emulator.setLink(params, link.a === a ? 'aToB' : 'bToA');
    else emulator.setLink(params);
  }

  /** The underlying emulator of the link between `a` and `b` (its A side is the link's `a`). */
  link(a: string, b: string): UdpLinkEmulator {
    return this.entry(a, b).emulator;
  }

  stats(): NetworkLinkStats[] {
    return [...this.entries.values()].map(({ link, emulator }) => {
      const s = emulator.stats();
      return { a: link.a, b: link.b, aToB: s.aToB, bToA: s.bToA };
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.emulator.close()));
  }

  private entry(a: string, b: string): Entry {
    const e = this.entries.get(pairKey(a, b));
    if (e === undefined) throw new RangeError(`NetworkEmulator: no link between '${a}' and '${b}'`);
    return e;
  }
}

function linkUpdate(link: TopologyLink): LinkUpdate {
  return {
    ...link.params,
    delayMs: link.delayMs,
    ...(link.jitterMs === undefined ? {} : { jitterMs: link.jitterMs }),
    ...(link.lossRate === undefined ? {} : { lossRate: link.lossRate }),
  };
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

function isReadonlyMap(ports: Readonly<Record<string, number>> | ReadonlyMap<string, number>): ports is ReadonlyMap<string, number> {
  return ports instanceof Map;
}
