// The relay mesh service: QUIC links (link/), the pure routing core, interest gossip and
// forwarding, glued to this relay's Dispatcher. Inputs are link events and control frames;
// routing decisions are the Router's and InterestTable's (mesh/route, mesh/interest).
//
// Forwarding: the origin looks up which PoPs want the channel, splits them by next hop and
// sends one FWD per next hop listing the destinations that copy is responsible for. Each hop
// delivers locally if listed and re-splits the rest by its own next hops. Duplicates are
// suppressed per (message id, destination), not per id alone: two copies of one message
// carrying different destination sets may legitimately meet at a relay while routes change,
// and dropping the second would lose its destinations.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@fastpubsub/core';
import {
  FwdFlags,
  MeshFrameType,
  decodeInterest,
  decodeInterestAck,
  decodePeers,
  decodePresence,
  decodeRoute,
  encodeFwd,
  encodeInterest,
  encodeInterestAck,
  encodePeers,
  encodeRoute,
  isWireError,
  type Frame,
  type FwdFrame,
  type PublishMode,
} from '@fastpubsub/wire';
import type { Registry } from 'prom-client';
import { matchesPattern } from '../fanout/index.js';
import type { DispatchMessage } from '../delivery/index.js';
import {
  DEFAULT_TTL,
  DuplicateFilter,
  InterestTable,
  Router,
  decodeAdvert,
  encodeAdvert,
  linkCostMs,
  nextTtl,
  planForwarding,
  type InterestSnapshot,
  type RouterOptions,
} from './route/index.js';
import type { LinkHealthOptions } from './route/index.js';
import type { MeshDiscovery } from './link/discovery.js';
import type { MeshLink } from './link/link.js';
import type { MeshCredentials } from './link/pki.js';
import { MeshTransport } from './link/transport.js';
import { MeshMetrics } from './metrics.js';
import { InterestPropagation } from './interest/propagation.js';
import { disjointCopies, sourceRouteStep } from './route/disjoint.js';

/** What the mesh needs from the local delivery core (the Dispatcher satisfies it). */
export interface LocalDelivery {
  setForwarder(fn: ((msg: DispatchMessage) => boolean) | undefined): void;
  deliverRemote(msg: DispatchMessage): void;
  onInterestChange(listener: (tenant: string) => void): () => void;
  interestOf(tenant: string): string[];
  tenantsWithInterest(): string[];
}

/** Presence gossip (relay/src/presence): the mesh hands it links and PRESENCE frames. */
export interface MeshPresence {
  attach(links: { readonly id: string; send(peer: string, frame: Uint8Array): void; flood(frame: Uint8Array, except: string | undefined): number } | undefined): void;
  linkUp(peer: string): void;
  receive(peer: string, frame: ReturnType<typeof decodePresence>, bytes: number): void;
}

export interface MeshOptions {
  credentials: MeshCredentials;
  host: string;
  port: number;
  advertise?: string;
  discovery: MeshDiscovery;
  probeIntervalMs: number;
  health?: LinkHealthOptions;
  linkQueueBytes: number;
  redundantChannels: readonly string[];
  router?: Omit<RouterOptions, 'id'>;
  delivery: LocalDelivery;
  presence?: MeshPresence | undefined;
  registry: Registry;
  logger: Logger;
  /** Monotonic ms (routing, probes); default performance.now. */
  now?: () => number;
}

export interface LinkInfo {
  peer: string;
  state: string;
  rttMs: number | null;
  jitterMs: number | null;
  loss: number | null;
  costMs: number | null;
  dialed: boolean;
  remote: string;
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  queueDropped: number;
}

export interface RouteInfo {
  dest: string;
  nextHop: string;
  path: readonly string[];
  pathLatencyMs: number;
  directLatencyMs: number | null;
  relayed: boolean;
}

const TICK_MS = 20;
// Hop bound of an INTEREST_ACK on its way back to the origin (as FWD's TTL).
const ACK_TTL = 8;
/** A PoP with no route for this long is gone for good: its interest is forgotten. */
const INTEREST_EXPIRY_MS = 60_000;

export class Mesh {
  readonly id: string;
  readonly transport: MeshTransport;
  readonly router: Router;
  readonly interest: InterestTable;
  /** Which PoPs hold which version of our interest (INTEREST_ACK); see interestReady(). */
  readonly propagation: InterestPropagation;
  readonly metrics: MeshMetrics;
  readonly #o: MeshOptions;
  readonly #now: () => number;
  readonly #delivered = new DuplicateFilter();
  readonly #forwarded = new DuplicateFilter({ maxEntries: 400_000 });
  /** tenant → patterns last pushed into the InterestTable (to diff against the Dispatcher). */
  readonly #mirror = new Map<string, Set<string>>();
  readonly #idPrefix = randomBytes(8);
  #idCounter = 0n;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #interestDirty = false;
  #interestFloodScheduled = false;

  constructor(o: MeshOptions) {
    this.#o = o;
    this.id = o.credentials.id;
    this.#now = o.now ?? (() => performance.now());
    this.router = new Router({ id: this.id, initialSeq: Date.now() * 2, ...o.router });
    this.interest = new InterestTable({ self: this.id, initialVersion: Date.now() });
    this.propagation = new InterestPropagation({ self: this.id, reachable: () => this.router.routes().map((r) => r.dest) });
    this.transport = new MeshTransport({
      credentials: o.credentials,
      host: o.host,
      port: o.port,
      ...(o.advertise === undefined ? {} : { advertise: o.advertise }),
      discovery: o.discovery,
      probeIntervalMs: o.probeIntervalMs,
      ...(o.health === undefined ? {} : { health: o.health }),
      linkQueueBytes: o.linkQueueBytes,
      now: this.#now,
      logger: o.logger.child({ component: 'mesh' }),
      boot: Date.now(),
    });
    this.metrics = new MeshMetrics(o.registry, () =>
      this.links().map((l) => ({ peer: l.peer, rttMs: l.rttMs, jitterMs: l.jitterMs, loss: l.loss, cost: l.costMs, up: l.state === 'up', queueDropped: l.queueDropped })),
    );
    this.transport.on('link', (l) => this.#onLink(l));
    this.transport.on('unlink', (l) => this.#onUnlink(l));
  }

  get address(): { host: string; port: number } {
    return this.transport.address;
  }

  start(): void {
    const d = this.#o.delivery;
    for (const t of d.tenantsWithInterest()) this.#syncTenant(t);
    this.#unsubscribe = d.onInterestChange((t) => this.#syncTenant(t));
    d.setForwarder((msg) => this.publish(msg));
    this.#o.presence?.attach({
      id: this.id,
      send: (peer, frame) => this.transport.links().get(peer)?.sendControl(frame),
      flood: (frame, except) => this.#flood(frame, except),
    });
    this.transport.start();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.propagation.close();
    this.#unsubscribe?.();
    this.#o.delivery.setForwarder(undefined);
    this.#o.presence?.attach(undefined);
    await this.transport.close();
  }

  // ---- publish path ------------------------------------------------------------------------

  /**
   * A publish accepted by a local edge: send it towards every other PoP that wants it. True when
   * some other PoP wants it (copies that cannot be sent are counted as mesh drops).
   */
  publish(msg: DispatchMessage): boolean {
    let dests = this.interest.destinationsFor(msg.tenant, msg.channel);
    if (msg.mode !== 0) {
      // Deliver-one: if a local subscriber exists the Dispatcher already picked one here;
      // otherwise hand it to the single nearest PoP that wants it.
      if (dests.includes(this.id)) return false;
      const best = dests
        .map((d) => ({ d, c: this.router.route(d)?.cost ?? Infinity }))
        .filter((x) => Number.isFinite(x.c))
        .sort((a, b) => a.c - b.c)[0];
      dests = best === undefined ? [] : [best.d];
    } else {
      dests = dests.filter((d) => d !== this.id);
    }
    if (dests.length === 0) return false;
    const id = msg.id ?? this.#nextId();
    const key = Buffer.from(id).toString('hex');
    for (const d of dests) this.#forwarded.seen(`${key}/${d}`, this.#now());
    const flags = msg.idempotent === true ? FwdFlags.IDEMPOTENT : 0;
    const fwd: FwdFrame = { flags, ttl: DEFAULT_TTL, mode: msg.mode, id, origin: this.id, dests, tenant: msg.tenant, channel: msg.channel, data: msg.payload };
    this.#split(fwd, dests, DEFAULT_TTL, undefined);
    if (this.#o.redundantChannels.some((p) => matchesPattern(p, msg.channel))) this.#sendRedundant(fwd, dests);
    return true;
  }

  #nextId(): Uint8Array {
    const id = new Uint8Array(16);
    id.set(this.#idPrefix, 0);
    new DataView(id.buffer).setBigUint64(8, this.#idCounter++);
    return id;
  }

  /** Sends one copy per next hop, each with the destinations it is responsible for. */
  #split(fwd: FwdFrame, dests: readonly string[], ttl: number, from: string | undefined): void {
    const plan = planForwarding(this.id, dests, this.router);
    if (plan.unreachable.length > 0) this.metrics.dropped('unreachable', plan.unreachable.length);
    for (const [hop, list] of plan.byNextHop) {
      const link = this.transport.links().get(hop);
      if (link === undefined || link.isClosed) {
        this.metrics.dropped('no_link', list.length);
        continue;
      }
      if (hop === from) this.#o.logger.debug('mesh: forwarding back to the previous hop', { hop });
      const { via: _sourceRoute, ...plain } = fwd; // a split copy follows the routes, never a source route
      const frame = encodeFwd({ ...plain, ttl, dests: list });
      link.sendFwd(frame);
      this.metrics.sent(hop, frame.length);
    }
  }

  /** Second copy per destination, source-routed along a path node-disjoint from the primary. */
  #sendRedundant(fwd: FwdFrame, dests: readonly string[]): void {
    for (const copy of disjointCopies(dests, this.router)) {
      this.#sendVia(fwd, copy.hop, copy.dest, copy.via, fwd.ttl);
    }
  }

  #sendVia(fwd: FwdFrame, hop: string, dest: string, via: string[], ttl: number): void {
    const link = this.transport.links().get(hop);
    if (link === undefined || link.isClosed) {
      this.metrics.dropped('no_link');
      return;
    }
    const frame = encodeFwd({ ...fwd, flags: fwd.flags | FwdFlags.REDUNDANT, ttl, dests: [dest], via });
    link.sendFwd(frame);
    this.metrics.sent(hop, frame.length);
  }

  /** A source-routed copy: deliver it, or pass it to exactly the next hop it names (never re-routed). */
  #onSourceRouted(fwd: FwdFrame, via: readonly string[]): void {
    const dest = fwd.dests[0]!;
    const key = Buffer.from(fwd.id).toString('hex');
    const step = sourceRouteStep(this.id, dest, via);
    if (step.kind === 'invalid' || fwd.dests.length !== 1) {
      this.metrics.dropped('bad_frame');
      return;
    }
    if (step.kind === 'deliver') {
      if (this.#delivered.seen(key, this.#now())) {
        this.metrics.dropped('duplicate');
        return;
      }
      this.metrics.deliveredRemote.inc();
      this.#o.delivery.deliverRemote({ tenant: fwd.tenant, channel: fwd.channel, payload: fwd.data, mode: fwd.mode as PublishMode, arrivedAtMs: performance.now(), origin: 'mesh' });
      return;
    }
    if (this.#forwarded.seen(`${key}/${dest}/via`, this.#now())) {
      this.metrics.dropped('duplicate');
      return;
    }
    const ttl = nextTtl(fwd.ttl);
    if (ttl === undefined) {
      this.metrics.dropped('ttl');
      return;
    }
    this.#sendVia(fwd, step.hop, dest, step.via, ttl);
  }

  #onFwd(from: string, fwd: FwdFrame, bytes: number): void {
    this.metrics.received(from, bytes);
    if (fwd.ttl === 0) {
      this.metrics.dropped('ttl');
      return;
    }
    if (fwd.via !== undefined) return this.#onSourceRouted(fwd, fwd.via);
    const now = this.#now();
    const key = Buffer.from(fwd.id).toString('hex');
    const rest: string[] = [];
    for (const d of fwd.dests) {
      if (d === this.id) {
        if (this.#delivered.seen(key, now)) {
          this.metrics.dropped('duplicate');
          continue;
        }
        this.metrics.deliveredRemote.inc();
        this.#o.delivery.deliverRemote({
          tenant: fwd.tenant,
          channel: fwd.channel,
          payload: fwd.data,
          mode: fwd.mode as PublishMode,
          arrivedAtMs: performance.now(),
          origin: 'mesh',
          ...((fwd.flags & FwdFlags.IDEMPOTENT) !== 0 ? { id: fwd.id.slice(), idempotent: true } : {}),
        });
      } else if (this.#forwarded.seen(`${key}/${d}`, now)) {
        this.metrics.dropped('duplicate');
      } else {
        rest.push(d);
      }
    }
    if (rest.length === 0) return;
    const ttl = nextTtl(fwd.ttl);
    if (ttl === undefined) {
      this.metrics.dropped('ttl', rest.length);
      return;
    }
    this.#split(fwd, rest, ttl, from);
  }

  // ---- links, routing, gossip --------------------------------------------------------------

  #onLink(link: MeshLink): void {
    link.on('fwd', (f, bytes) => this.#onFwd(link.peer, f, bytes));
    link.on('control', (f) => this.#onControl(link, f));
    link.on('health', (state, metrics) => {
      if (this.transport.links().get(link.peer) !== link) return;
      const now = this.#now();
      if (state === 'up' && metrics !== undefined) {
        if (this.router.hasNeighbour(link.peer)) this.router.linkMetrics(link.peer, metrics);
        else this.router.linkUp(link.peer, metrics, now);
      } else if (state === 'dead' && this.router.hasNeighbour(link.peer)) {
        this.router.linkDown(link.peer);
      }
      this.#tick();
    });
    // Everything we know about interest, and who else we know, so a new peer is current at once.
    for (const s of this.interest.newerThan({})) link.sendControl(encodeInterest({ origin: s.pop, seq: s.version, tenants: cloneTenants(s) }));
    const peers = [...this.transport.links().values()]
      .filter((l) => l !== link && l.hello.addr !== undefined)
      .map((l) => ({ id: l.peer, addr: l.hello.addr! }));
    if (peers.length > 0) link.sendControl(encodePeers(peers));
    this.#o.presence?.linkUp(link.peer);
  }

  #onUnlink(link: MeshLink): void {
    const current = this.transport.links().get(link.peer);
    if (current !== undefined && current !== link) return; // replaced by a duplicate's winner
    if (this.router.hasNeighbour(link.peer)) this.router.linkDown(link.peer);
    this.#tick();
  }

  #onControl(link: MeshLink, f: Frame<number>): void {
    try {
      switch (f.type) {
        case MeshFrameType.ROUTE:
          this.router.receive(link.peer, decodeAdvert(decodeRoute(f)), this.#now());
          this.#tick();
          return;
        case MeshFrameType.INTEREST: {
          const i = decodeInterest(f);
          const snap: InterestSnapshot = { pop: i.origin, version: i.seq, tenants: i.tenants };
          if (this.interest.apply(snap)) {
            this.#flood(encodeInterest(i), link.peer);
            this.#routeAck({ origin: i.origin, seq: i.seq, from: this.id, ttl: ACK_TTL }, link.peer);
          }
          return;
        }
        case MeshFrameType.INTEREST_ACK: {
          const a = decodeInterestAck(f);
          if (a.origin === this.id) this.propagation.onAck(a.from, a.seq);
          else if (a.ttl > 0) this.#routeAck({ ...a, ttl: a.ttl - 1 }, link.peer);
          return;
        }
        case MeshFrameType.PEERS:
          for (const p of decodePeers(f)) if (p.id !== this.id) this.#o.discovery.learn(p);
          return;
        case MeshFrameType.PRESENCE:
          this.#o.presence?.receive(link.peer, decodePresence(f), f.payload.byteLength);
          return;
        default:
          return; // a newer peer's control frame: ignored
      }
    } catch (err) {
      this.metrics.dropped('bad_frame');
      this.#o.logger.warn('mesh: bad control frame', { peer: link.peer, err: isWireError(err) ? err.message : String(err) });
    }
  }

  /**
   * Resolves true once every PoP this relay can route to holds its current local interest (so
   * forwards matching publishes here), false after `timeoutMs`. A pending change is sent now.
   */
  interestReady(timeoutMs: number): Promise<boolean> {
    this.#flushInterest();
    return this.propagation.whenPropagated(this.interest.localSnapshot().version, timeoutMs);
  }

  /** Sends an INTEREST_ACK one hop towards its origin: the best route's next hop, else the link it came by. */
  #routeAck(ack: { origin: string; seq: number; from: string; ttl: number }, cameFrom: string): void {
    const links = this.transport.links();
    const hop = links.has(ack.origin) ? ack.origin : (this.router.route(ack.origin)?.nextHop ?? cameFrom);
    const link = links.get(hop);
    if (link === undefined || link.isClosed) return;
    link.sendControl(encodeInterestAck(ack));
  }

  /** Floods the local snapshot now if it changed (a triggered update, not a periodic one). */
  #flushInterest(): void {
    if (!this.#interestDirty) return;
    this.#interestDirty = false;
    const s = this.interest.localSnapshot();
    this.#flood(encodeInterest({ origin: s.pop, seq: s.version, tenants: cloneTenants(s) }), undefined);
  }

  #flood(frame: Uint8Array, except: string | undefined): number {
    let n = 0;
    for (const [peer, l] of this.transport.links()) {
      if (peer === except) continue;
      l.sendControl(frame);
      n++;
    }
    return n;
  }

  #syncTenant(tenant: string): void {
    const now = new Set(this.#o.delivery.interestOf(tenant));
    const had = this.#mirror.get(tenant) ?? new Set<string>();
    let changed = false;
    for (const p of now) if (!had.has(p)) changed = this.interest.addLocal(tenant, p) || changed;
    for (const p of had) if (!now.has(p)) changed = this.interest.removeLocal(tenant, p) || changed;
    if (now.size === 0) this.#mirror.delete(tenant);
    else this.#mirror.set(tenant, now);
    // A triggered update: sent at the end of this turn of the event loop, so a burst of
    // subscriptions still costs one INTEREST per link but nobody waits for the next tick.
    if (!changed) return;
    this.#interestDirty = true;
    if (this.#interestFloodScheduled) return;
    this.#interestFloodScheduled = true;
    queueMicrotask(() => {
      this.#interestFloodScheduled = false;
      this.#flushInterest();
    });
  }

  #tick(): void {
    const now = this.#now();
    this.interest.expireUnreachable(now, (pop) => this.router.route(pop) !== undefined, INTEREST_EXPIRY_MS);
    this.#flushInterest();
    const { adverts, changes } = this.router.tick(now);
    if (changes.length > 0) this.propagation.check(); // a PoP that became unreachable no longer counts
    for (const a of adverts) this.transport.links().get(a.to)?.sendControl(encodeRoute(encodeAdvert(a.advert)));
    for (const c of changes) {
      this.metrics.routeChanges.inc();
      this.#o.logger.info('mesh route', { dest: c.dest, from: c.from ?? null, to: c.to ?? null, costMs: round(c.cost) });
    }
  }

  // ---- introspection -----------------------------------------------------------------------

  links(): LinkInfo[] {
    return [...this.transport.links().values()]
      .sort((a, b) => (a.peer < b.peer ? -1 : 1))
      .map((l) => {
        const m = l.health.metrics();
        return {
          peer: l.peer,
          state: l.state,
          rttMs: m === undefined ? null : round(m.rttMs),
          jitterMs: m === undefined ? null : round(m.jitterMs),
          loss: m === undefined ? null : round(m.loss, 4),
          costMs: m === undefined ? null : round(linkCostMs(m)),
          dialed: l.dialed,
          remote: `${l.conn.remoteAddress.host}:${l.conn.remoteAddress.port}`,
          messagesSent: l.counters.fwdSent,
          messagesReceived: l.counters.fwdReceived,
          bytesSent: l.counters.bytesSent,
          bytesReceived: l.counters.bytesReceived,
          queueDropped: l.queue.dropped,
        };
      });
  }

  routes(): RouteInfo[] {
    return this.router.routes().map((r) => ({
      dest: r.dest,
      nextHop: r.nextHop,
      path: r.path,
      pathLatencyMs: round(r.cost),
      directLatencyMs: r.directCost === undefined ? null : round(r.directCost),
      relayed: r.path.length > 2,
    }));
  }
}

function cloneTenants(s: InterestSnapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [t, p] of Object.entries(s.tenants)) out[t] = [...p];
  return out;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
