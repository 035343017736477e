// The relay mesh service: QUIC links (link/), the pure routing core, interest gossip and
// forwarding, glued to this relay's Dispatcher. Inputs are link events and control frames;
// routing decisions are the Router's and InterestTable's (mesh/route, mesh/interest). This
// class is the coordinator: forwarding lives in forwarder.ts, interest gossip in
// interest-gossip.ts; here are the links, the routing tick, control-frame dispatch and
// introspection.
import { performance } from 'node:perf_hooks';
import type { Logger } from '@fastpubsub/core';
import { MeshFrameType, decodeInterest, decodePeers, decodePresence, decodeRoute, encodePeers, encodeRoute, isWireError, type Frame } from '@fastpubsub/wire';
import type { Registry } from 'prom-client';
import type { DispatchMessage } from '../delivery/index.js';
import { InterestTable, Router, decodeAdvert, encodeAdvert, linkCostMs, type RouterOptions } from './route/index.js';
import type { LinkHealthOptions } from './route/index.js';
import type { MeshDiscovery } from './link/discovery.js';
import type { MeshLink } from './link/link.js';
import type { MeshCredentials } from './link/pki.js';
import { MeshTransport } from './link/transport.js';
import { agentFwdRefusal, agentInterestRefusal, agentMayNotSend, agentOwnRoutes, type AgentRefusal } from './link/agent-guard.js';
import { MeshMetrics } from './metrics.js';
import { InterestPropagation } from './interest/propagation.js';
import { MeshForwarder } from './forwarder.js';
import { InterestGossip } from './interest-gossip.js';

/** What the mesh needs from the local delivery core (the Dispatcher satisfies it). */
export interface LocalDelivery {
  setForwarder(fn: ((msg: DispatchMessage) => boolean) | undefined): void;
  deliverRemote(msg: DispatchMessage): void;
  onInterestChange(listener: (tenant: string) => void): () => void;
  interestOf(tenant: string): string[];
  tenantsWithInterest(): string[];
  /** The tenant's config makes the channel latest-mode: link queues keep only its newest frame. */
  isLatest?(tenant: string, channel: string): boolean;
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
  /** An edge agent (docs/agent.md): dial only, accept no mesh connections. */
  outboundOnly?: boolean;
  /** Also serve the mesh over WebSocket on TLS (TCP) for edge agents without UDP. */
  tcpListen?: boolean;
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
  /** Latest-mode frames replaced in the link queue by a newer one of the same channel. */
  queueSuperseded: number;
}

export interface RouteInfo {
  dest: string;
  nextHop: string;
  path: readonly string[];
  pathLatencyMs: number;
  directLatencyMs: number | null;
  relayed: boolean;
}

/**
 * The longest the mesh sleeps with nothing due: the interest sweep (forgetting PoPs unreachable
 * for a minute) and a pending INTEREST flood ride on this; route timing comes from the router.
 */
const MAX_SLEEP_MS = 1000;

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
  readonly #forwarder: MeshForwarder;
  readonly #gossip: InterestGossip;
  #timer: NodeJS.Timeout | undefined;
  /** When #timer fires (ms on the #now clock); Infinity when none is armed. */
  #timerAt = Infinity;
  #closed = false;
  #unsubscribe: (() => void) | undefined;

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
      ...(o.outboundOnly === true ? { outboundOnly: true } : {}),
      ...(o.tcpListen === true ? { tcpListen: true } : {}),
    });
    this.metrics = new MeshMetrics(
      o.registry,
      () => this.links().map((l) => ({ peer: l.peer, rttMs: l.rttMs, jitterMs: l.jitterMs, loss: l.loss, cost: l.costMs, up: l.state === 'up', queueDropped: l.queueDropped, queueSuperseded: l.queueSuperseded })),
      () => this.transport.refused,
    );
    const links = (): ReadonlyMap<string, MeshLink> => this.transport.links();
    this.#forwarder = new MeshForwarder({
      self: this.id,
      router: this.router,
      interest: this.interest,
      links,
      metrics: this.metrics,
      deliverRemote: (msg) => o.delivery.deliverRemote(msg),
      isLatest: (tenant, channel) => o.delivery.isLatest?.(tenant, channel) === true,
      redundantChannels: o.redundantChannels,
      logger: o.logger,
      now: this.#now,
    });
    this.#gossip = new InterestGossip({
      self: this.id,
      interest: this.interest,
      propagation: this.propagation,
      router: this.router,
      links,
      localInterestOf: (tenant) => o.delivery.interestOf(tenant),
      flood: (frame, except) => this.#flood(frame, except),
    });
    this.transport.on('link', (l) => this.#onLink(l));
    this.transport.on('unlink', (l) => this.#onUnlink(l));
  }

  get address(): { host: string; port: number } {
    return this.transport.address;
  }

  start(): void {
    const d = this.#o.delivery;
    for (const t of d.tenantsWithInterest()) this.#gossip.syncTenant(t);
    this.#unsubscribe = d.onInterestChange((t) => this.#gossip.syncTenant(t));
    d.setForwarder((msg) => this.publish(msg));
    this.#o.presence?.attach({
      id: this.id,
      send: (peer, frame) => this.transport.links().get(peer)?.sendControl(frame),
      flood: (frame, except) => this.#flood(frame, except),
    });
    this.transport.start();
    this.#tick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.propagation.close();
    this.#unsubscribe?.();
    this.#o.delivery.setForwarder(undefined);
    this.#o.presence?.attach(undefined);
    await this.transport.close();
  }

  // ---- publish path ------------------------------------------------------------------------

  /** A publish accepted by a local edge: send it towards every other PoP that wants it; true when some other PoP wants it. */
  publish(msg: DispatchMessage): boolean {
    return this.#forwarder.publish(msg);
  }

  // ---- links, routing, gossip --------------------------------------------------------------

  #onLink(link: MeshLink): void {
    link.on('fwd', (f, bytes) => {
      const refused = agentFwdRefusal(link, f);
      if (refused === undefined) this.#forwarder.onFwd(link.peer, f, bytes);
      else this.#refuseFromAgent(link, refused);
    });
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
    this.#gossip.greet(link);
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
      if (link.agentTenant !== undefined && agentMayNotSend(f.type)) return this.#refuseFromAgent(link, 'agent_control');
      switch (f.type) {
        case MeshFrameType.ROUTE: {
          const { advert, dropped } = agentOwnRoutes(link, decodeAdvert(decodeRoute(f)));
          if (dropped > 0) this.#refuseFromAgent(link, 'agent_route', dropped);
          this.router.receive(link.peer, advert, this.#now());
          this.#tick();
          return;
        }
        case MeshFrameType.INTEREST: {
          const refused = link.agentTenant === undefined ? undefined : agentInterestRefusal(link, decodeInterest(f));
          if (refused === undefined) this.#gossip.onInterest(link, f);
          else this.#refuseFromAgent(link, refused);
          return;
        }
        case MeshFrameType.INTEREST_ACK:
          this.#gossip.onInterestAck(link, f);
          return;
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

  #refuseFromAgent(link: MeshLink, reason: AgentRefusal, n = 1): void {
    this.metrics.dropped(reason, n);
    this.#o.logger.debug('mesh: refused from agent', { peer: link.peer, tenant: link.agentTenant, reason });
  }

  /**
   * Resolves true once every PoP this relay can route to holds its current local interest (so
   * forwards matching publishes here), false after `timeoutMs`. A pending change is sent now.
   */
  interestReady(timeoutMs: number): Promise<boolean> {
    return this.#gossip.ready(timeoutMs);
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

  #tick(): void {
    const now = this.#now();
    this.#gossip.tick(now);
    const { adverts, changes } = this.router.tick(now);
    if (changes.length > 0) this.propagation.check(); // a PoP that became unreachable no longer counts
    for (const a of adverts) this.transport.links().get(a.to)?.sendControl(encodeRoute(encodeAdvert(a.advert)));
    for (const c of changes) {
      this.metrics.routeChanges.inc();
      this.#o.logger.info('mesh route', { dest: c.dest, from: c.from ?? null, to: c.to ?? null, costMs: round(c.cost) });
    }
    this.#schedule(now);
  }

  /**
   * Arms the one timer for the router's next deadline (hold-downs, route timeouts, periodic
   * adverts) instead of waking every few milliseconds: an idle mesh costs no CPU between events,
   * and a busy one no timer work on its data path. Inputs call #tick themselves.
   */
  #schedule(now: number): void {
    if (this.#closed) return;
    const due = Math.min(this.router.nextDeadline(), now + MAX_SLEEP_MS);
    if (this.#timer !== undefined && this.#timerAt <= due) return; // an earlier wake-up is armed
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#tick();
    }, Math.max(1, Math.ceil(due - now)));
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
          queueSuperseded: l.queue.superseded,
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

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
