// The mesh forwarder: sends an accepted publish towards every other PoP that wants it, and
// handles FWD frames arriving from peers (deliver here, pass the rest on).
//
// The origin looks up which PoPs want the channel, splits them by next hop and sends one FWD
// per next hop listing the destinations that copy is responsible for. Each hop delivers
// locally if listed and re-splits the rest by its own next hops. Duplicates are suppressed per
// (message id, destination), not per id alone: two copies of one message carrying different
// destination sets may legitimately meet at a relay while routes change, and dropping the
// second would lose its destinations. Channels matching a redundant pattern also get a second,
// source-routed copy per destination along a node-disjoint path.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@fastpubsub/core';
import { FwdFlags, encodeFwd, type FwdFrame, type PublishMode } from '@fastpubsub/wire';
import { matchesPattern } from '../fanout/index.js';
import type { DispatchMessage } from '../delivery/index.js';
import { DEFAULT_TTL, DuplicateFilter, nextTtl, planForwarding, type InterestTable, type Router } from './route/index.js';
import type { MeshLink } from './link/link.js';
import type { MeshMetrics } from './metrics.js';
import { disjointCopies, sourceRouteStep } from './route/disjoint.js';

export interface ForwarderOptions {
  self: string;
  router: Router;
  interest: InterestTable;
  links: () => ReadonlyMap<string, MeshLink>;
  metrics: MeshMetrics;
  /** Local delivery of a message that reached this PoP (the Dispatcher's deliverRemote). */
  deliverRemote: (msg: DispatchMessage) => void;
  redundantChannels: readonly string[];
  /** Latest-mode channels (tenant config): a link's queue keeps only the newest frame per (channel, destinations). */
  isLatest?: (tenant: string, channel: string) => boolean;
  logger: Logger;
  now: () => number;
}

export class MeshForwarder {
  readonly #o: ForwarderOptions;
  readonly #delivered = new DuplicateFilter();
  readonly #forwarded = new DuplicateFilter({ maxEntries: 400_000 });
  readonly #idPrefix = randomBytes(8);
  #idCounter = 0n;

  constructor(o: ForwarderOptions) {
    this.#o = o;
  }

  /**
   * A publish accepted by a local edge: send it towards every other PoP that wants it. True when
   * some other PoP wants it (copies that cannot be sent are counted as mesh drops).
   */
  publish(msg: DispatchMessage): boolean {
    const { self, router } = this.#o;
    let dests = this.#o.interest.destinationsFor(msg.tenant, msg.channel);
    if (msg.mode !== 0) {
      // Deliver-one: if a local subscriber exists the Dispatcher already picked one here;
      // otherwise hand it to the single nearest PoP that wants it.
      if (dests.includes(self)) return false;
      const best = dests
        .map((d) => ({ d, c: router.route(d)?.cost ?? Infinity }))
        .filter((x) => Number.isFinite(x.c))
        .sort((a, b) => a.c - b.c)[0];
      dests = best === undefined ? [] : [best.d];
    } else {
      dests = dests.filter((d) => d !== self);
    }
    if (dests.length === 0) return false;
    const id = msg.id ?? this.#nextId();
    const key = Buffer.from(id).toString('hex');
    for (const d of dests) this.#forwarded.seen(`${key}/${d}`, this.#o.now());
    const flags = msg.idempotent === true ? FwdFlags.IDEMPOTENT : 0;
    const fwd: FwdFrame = { flags, ttl: DEFAULT_TTL, mode: msg.mode, id, origin: self, dests, tenant: msg.tenant, channel: msg.channel, data: msg.payload };
    this.#split(fwd, dests, DEFAULT_TTL, undefined);
    if (this.#o.redundantChannels.some((p) => matchesPattern(p, msg.channel))) this.#sendRedundant(fwd, dests);
    return true;
  }

  /** A FWD frame from peer `from`: deliver it here if listed, pass the other destinations on. */
  onFwd(from: string, fwd: FwdFrame, bytes: number): void {
    const { metrics } = this.#o;
    metrics.received(from, bytes);
    if (fwd.ttl === 0) {
      metrics.dropped('ttl');
      return;
    }
    if (fwd.via !== undefined) return this.#onSourceRouted(fwd, fwd.via);
    const now = this.#o.now();
    const key = Buffer.from(fwd.id).toString('hex');
    const rest: string[] = [];
    for (const d of fwd.dests) {
      if (d === this.#o.self) {
        if (this.#delivered.seen(key, now)) {
          metrics.dropped('duplicate');
          continue;
        }
        metrics.deliveredRemote.inc();
        this.#o.deliverRemote({
          tenant: fwd.tenant,
          channel: fwd.channel,
          payload: fwd.data,
          mode: fwd.mode as PublishMode,
          arrivedAtMs: performance.now(),
          origin: 'mesh',
          ...((fwd.flags & FwdFlags.IDEMPOTENT) !== 0 ? { id: fwd.id.slice(), idempotent: true } : {}),
        });
      } else if (this.#forwarded.seen(`${key}/${d}`, now)) {
        metrics.dropped('duplicate');
      } else {
        rest.push(d);
      }
    }
    if (rest.length === 0) return;
    const ttl = nextTtl(fwd.ttl);
    if (ttl === undefined) {
      metrics.dropped('ttl', rest.length);
      return;
    }
    this.#split(fwd, rest, ttl, from);
  }

  #nextId(): Uint8Array {
    const id = new Uint8Array(16);
    id.set(this.#idPrefix, 0);
    new DataView(id.buffer).setBigUint64(8, this.#idCounter++);
    return id;
  }

  /**
   * The supersession key of a latest-mode channel's frame on a link queue: a newer frame replaces
   * a queued one only when it goes to the same destinations the same way, so no PoP loses it.
   */
  #latestKey(fwd: FwdFrame, dests: readonly string[], via: string): string | undefined {
    if (fwd.mode !== 0 || this.#o.isLatest?.(fwd.tenant, fwd.channel) !== true) return undefined;
    return `${fwd.tenant}\u0000${fwd.channel}\u0000${dests.join(',')}\u0000${via}`;
  }

  /** Sends one copy per next hop, each with the destinations it is responsible for. */
  #split(fwd: FwdFrame, dests: readonly string[], ttl: number, from: string | undefined): void {
    const { metrics } = this.#o;
    const plan = planForwarding(this.#o.self, dests, this.#o.router);
    if (plan.unreachable.length > 0) metrics.dropped('unreachable', plan.unreachable.length);
    for (const [hop, list] of plan.byNextHop) {
      const link = this.#o.links().get(hop);
      if (link === undefined || link.isClosed) {
        metrics.dropped('no_link', list.length);
        continue;
      }
      if (hop === from) this.#o.logger.debug('mesh: forwarding back to the previous hop', { hop });
      const { via: _sourceRoute, ...plain } = fwd; // a split copy follows the routes, never a source route
      const frame = encodeFwd({ ...plain, ttl, dests: list });
      link.sendFwd(frame, this.#latestKey(fwd, list, ''));
      metrics.sent(hop, frame.length);
    }
  }

  /** Second copy per destination, source-routed along a path node-disjoint from the primary. */
  #sendRedundant(fwd: FwdFrame, dests: readonly string[]): void {
    for (const copy of disjointCopies(dests, this.#o.router)) {
      this.#sendVia(fwd, copy.hop, copy.dest, copy.via, fwd.ttl);
    }
  }

  #sendVia(fwd: FwdFrame, hop: string, dest: string, via: string[], ttl: number): void {
    const link = this.#o.links().get(hop);
    if (link === undefined || link.isClosed) {
      this.#o.metrics.dropped('no_link');
      return;
    }
    const frame = encodeFwd({ ...fwd, flags: fwd.flags | FwdFlags.REDUNDANT, ttl, dests: [dest], via });
    link.sendFwd(frame, this.#latestKey(fwd, [dest], via.join(',')));
    this.#o.metrics.sent(hop, frame.length);
  }

  /** A source-routed copy: deliver it, or pass it to exactly the next hop it names (never re-routed). */
  #onSourceRouted(fwd: FwdFrame, via: readonly string[]): void {
    const { metrics } = this.#o;
    const dest = fwd.dests[0]!;
    const key = Buffer.from(fwd.id).toString('hex');
    const step = sourceRouteStep(this.#o.self, dest, via);
    if (step.kind === 'invalid' || fwd.dests.length !== 1) {
      metrics.dropped('bad_frame');
      return;
    }
    if (step.kind === 'deliver') {
      if (this.#delivered.seen(key, this.#o.now())) {
        metrics.dropped('duplicate');
        return;
      }
      metrics.deliveredRemote.inc();
      this.#o.deliverRemote({ tenant: fwd.tenant, channel: fwd.channel, payload: fwd.data, mode: fwd.mode as PublishMode, arrivedAtMs: performance.now(), origin: 'mesh' });
      return;
    }
    if (this.#forwarded.seen(`${key}/${dest}/via`, this.#o.now())) {
      metrics.dropped('duplicate');
      return;
    }
    const ttl = nextTtl(fwd.ttl);
    if (ttl === undefined) {
      metrics.dropped('ttl');
      return;
    }
    this.#sendVia(fwd, step.hop, dest, step.via, ttl);
  }
}
