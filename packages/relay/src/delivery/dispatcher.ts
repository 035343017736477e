// The one fan-out core of a relay. Both edges (and the mesh) hand it accepted publishes; it
// owns the subscription index over heterogeneous sinks (WebSocket connections, QUIC
// subscription streams), matches, picks for deliver-one, memoises encodings per publish and
// keeps the delivery metrics. Hooks for the mesh: a forwarder for locally originated publishes,
// deliverRemote() for publishes that came from another PoP, and interest-change notifications.
import { performance } from 'node:perf_hooks';
import { SubscriptionIndex, isLiteralPattern, pickOne } from '../fanout/index.js';
import type { RelayMetrics } from '../metrics.js';
import { Encodings } from './encodings.js';
import { IdempotencyWindow } from './idempotency.js';
import type { DispatchMessage, Sink } from './types.js';

export interface DispatcherOptions {
  metrics: RelayMetrics;
  /** Uniform [0, 1) for deliver-one picks. */
  random: () => number;
  /** Result cache of the subscription index (see SubscriptionIndexOptions). */
  cacheSize?: number;
  /**
   * Fan-out budget per tenant: called with the publishing tenant and the number of matching
   * subscribers before anything is delivered; false refuses the publish (limits/fanout-budget.ts).
   */
  charge?: (tenant: string, deliveries: number) => boolean;
  /** Monotonic ms for the idempotency window; default performance.now. */
  now?: () => number;
}

/** Sends a local publish on to the other PoPs; true when some other PoP wants it. */
export type Forwarder = (msg: DispatchMessage) => boolean;
/** Sees every publish an edge accepted here (per-channel statistics). */
export type PublishObserver = (msg: DispatchMessage) => void;
export type InterestListener = (tenant: string) => void;
/** True when the tenant's config makes a channel latest-mode (limits/admission.ts isLatest). */
export type LatestPolicy = (tenant: string, channel: string) => boolean;

export class Dispatcher {
  readonly #index: SubscriptionIndex<Sink>;
  readonly #metrics: RelayMetrics;
  readonly #random: () => number;
  /** tenant → distinct pattern → sinks holding it: tells when a tenant's interest set changes. */
  readonly #interest = new Map<string, Map<string, number>>();
  readonly #interestListeners = new Set<InterestListener>();
  readonly #tenantSubscriptions = new Map<string, number>();
  readonly #wildcardPatterns = new Map<string, number>();
  #forwarder: Forwarder | undefined;
  readonly #charge: ((tenant: string, deliveries: number) => boolean) | undefined;
  readonly #idempotency = new IdempotencyWindow();
  readonly #now: () => number;
  #observer: PublishObserver | undefined;
  #latestPolicy: LatestPolicy | undefined;

  constructor(opts: DispatcherOptions) {
    this.#now = opts.now ?? (() => performance.now());
    this.#metrics = opts.metrics;
    this.#random = opts.random;
    this.#charge = opts.charge;
    this.#index = new SubscriptionIndex<Sink>(opts.cacheSize === undefined ? {} : { cacheSize: opts.cacheSize });
  }

  /** Total (tenant, pattern, sink) subscriptions. */
  get size(): number {
    return this.#index.size;
  }

  has(tenant: string, pattern: string, sink: Sink): boolean {
    return this.#index.has(tenant, pattern, sink);
  }

  countFor(sink: Sink): number {
    return this.#index.countFor(sink);
  }

  /** Connections here that a publish on (tenant, channel) would reach (the console's subscriber counts). */
  subscriberCount(tenant: string, channel: string): number {
    const connections = new Set<object>();
    for (const sink of this.#index.match(tenant, channel).keys()) connections.add(sink.connection);
    return connections.size;
  }

  /** Distinct wildcard patterns held in a tenant (what bounds one publish's matching walk). */
  wildcardPatternCountOf(tenant: string): number {
    return this.#wildcardPatterns.get(tenant) ?? 0;
  }

  holdsPattern(tenant: string, pattern: string): boolean {
    return this.#interest.get(tenant)?.has(pattern) ?? false;
  }

  /** (pattern, sink) subscriptions held in a tenant. */
  subscriptionCountOf(tenant: string): number {
    return this.#tenantSubscriptions.get(tenant) ?? 0;
  }

  /** Distinct patterns held in a tenant (what the mesh gossips). */
  interestOf(tenant: string): string[] {
    return [...(this.#interest.get(tenant)?.keys() ?? [])];
  }

  tenantsWithInterest(): string[] {
    return [...this.#interest.keys()];
  }

  /** Returns false if that exact (tenant, pattern, sink) was already present. */
  subscribe(tenant: string, pattern: string, sink: Sink): boolean {
    if (!this.#index.add(tenant, pattern, sink)) return false;
    let patterns = this.#interest.get(tenant);
    if (patterns === undefined) this.#interest.set(tenant, (patterns = new Map<string, number>()));
    const n = patterns.get(pattern) ?? 0;
    patterns.set(pattern, n + 1);
    this.#tenantSubscriptions.set(tenant, (this.#tenantSubscriptions.get(tenant) ?? 0) + 1);
    if (n === 0) {
      if (!isLiteralPattern(pattern)) this.#wildcardPatterns.set(tenant, (this.#wildcardPatterns.get(tenant) ?? 0) + 1);
      this.#interestChanged(tenant);
    }
    return true;
  }

  /** Returns false if the subscription did not exist. */
  unsubscribe(tenant: string, pattern: string, sink: Sink): boolean {
    if (!this.#index.remove(tenant, pattern, sink)) return false;
    this.#released(tenant, pattern);
    return true;
  }

  /** Removes every subscription of a sink (connection or stream gone); returns how many. */
  removeSink(sink: Sink): number {
    const subs = this.#index.patternsOf(sink);
    if (subs.length === 0) return 0;
    this.#index.removeSink(sink);
    const changed = new Set<string>();
    for (const { tenant, pattern } of subs) if (this.#released(tenant, pattern, false)) changed.add(tenant);
    for (const tenant of changed) this.#emitInterest(tenant);
    return subs.length;
  }

  /** The mesh sends every locally originated publish on with this (one forwarder). */
  setForwarder(fn: Forwarder | undefined): void {
    this.#forwarder = fn;
  }

  setPublishObserver(fn: PublishObserver | undefined): void {
    this.#observer = fn;
  }

  /** Where per-channel latest-mode defaults come from (the tenant config pushed to this PoP). */
  setLatestPolicy(fn: LatestPolicy | undefined): void {
    this.#latestPolicy = fn;
  }

  isLatest(tenant: string, channel: string): boolean {
    return this.#latestPolicy?.(tenant, channel) === true;
  }

  /** Marks a publish of a latest-mode channel so every queue on its way coalesces it. */
  #stamped(msg: DispatchMessage): DispatchMessage {
    return msg.latest !== true && this.isLatest(msg.tenant, msg.channel) ? { ...msg, latest: true } : msg;
  }

  /** Called with a tenant whenever its set of distinct patterns changes; returns an unsubscribe. */
  onInterestChange(listener: InterestListener): () => void {
    this.#interestListeners.add(listener);
    return () => this.#interestListeners.delete(listener);
  }

  /**
   * A publish accepted by one of this relay's edges: local fan-out, then the mesh forwarder.
   * Returns false, delivering and forwarding nothing, when the tenant's fan-out budget is spent
   * or the publish is an idempotent repeat this PoP has already seen.
   */
  publish(accepted: DispatchMessage): boolean {
    const msg = this.#stamped(accepted);
    if (this.#isRepeat(msg)) return false;
    if (msg.origin !== 'system' && msg.origin !== 'mesh') this.#observer?.(msg);
    const local = this.#fanOut(msg);
    if (local === 'refused') return false;
    const remote = msg.origin !== 'mesh' && this.#forwarder?.(msg) === true;
    // A message another PoP wants is not dropped, even with no subscriber here.
    // The relay's own network state is published whether or not anyone listens: not a drop.
    if (local === 'none' && !remote && msg.origin !== 'system') this.#metrics.dropped('no_subscribers');
    return true;
  }

  /** A publish from another PoP: local fan-out only, never forwarded again. */
  deliverRemote(received: DispatchMessage): void {
    const msg = this.#stamped(received);
    if (this.#isRepeat(msg)) return;
    if (this.#fanOut(msg) === 'none') this.#metrics.dropped('no_subscribers');
  }

  #isRepeat(msg: DispatchMessage): boolean {
    if (msg.idempotent !== true || msg.id === undefined) return false;
    if (!this.#idempotency.seen(Buffer.from(msg.id).toString('hex'), this.#now())) return false;
    this.#metrics.dropped('idempotent_repeat');
    return true;
  }

  /** Delivers to the local subscribers: 'none' when there are none, 'refused' when the tenant's fan-out budget is spent. */
  #fanOut(msg: DispatchMessage): 'delivered' | 'none' | 'refused' {
    const matches = this.#index.match(msg.tenant, msg.channel);
    if (this.#charge !== undefined && !this.#charge(msg.tenant, msg.mode !== 0 ? Math.min(1, matches.size) : matches.size)) {
      this.#metrics.dropped('tenant_budget');
      return 'refused';
    }
    if (matches.size === 0) return 'none';
    const enc = new Encodings(msg);
    // Direct writes per edge; a relay has two edges, so two plain variables beat a map. Counted
    // inline, not through a closure, so a publish allocates no function and no context for them.
    let wsCount = 0;
    let wsBytes = 0;
    let quicCount = 0;
    let quicBytes = 0;
    const targets = msg.mode !== 0 ? this.#deliverOneTargets(matches) : matches.keys();
    for (const sink of targets) {
      const patterns = matches.get(sink);
      if (patterns === undefined) continue;
      const bytes = sink.deliver(msg, patterns, enc);
      if (bytes <= 0) continue;
      if (sink.edge === 'ws') {
        wsCount++;
        wsBytes += bytes;
      } else {
        quicCount++;
        quicBytes += bytes;
      }
    }

    const m = this.#metrics;
    if (wsCount > 0) {
      m.ws.messagesOut.inc(wsCount);
      m.ws.bytesOut.inc(wsBytes);
    }
    if (quicCount > 0) {
      m.quic.messagesOut.inc(quicCount);
      m.quic.bytesOut.inc(quicBytes);
    }
    // One observation per publish, once its last direct write is handed to a transport; queued
    // deliveries are observed by their sink when they are written.
    if (wsCount + quicCount > 0) m.observePublishToWrite((performance.now() - msg.arrivedAtMs) / 1000);
    return 'delivered';
  }

  /**
   * Deliver-one (contract §10.7): uniform over connections, the publisher's included. A QUIC
   * connection may hold several matching subscription streams: each of them gets it.
   */
  #deliverOneTargets(matches: ReadonlyMap<Sink, readonly string[]>): readonly Sink[] {
    let plain = true;
    for (const sink of matches.keys()) {
      if (sink.connection !== sink) plain = false;
    }
    if (plain) {
      const one = pickOne<Sink>([...matches.keys()], this.#random);
      return one === undefined ? [] : [one];
    }
    const byConn = new Map<object, Sink[]>();
    for (const sink of matches.keys()) {
      const list = byConn.get(sink.connection);
      if (list === undefined) byConn.set(sink.connection, [sink]);
      else list.push(sink);
    }
    const conn = pickOne<object>([...byConn.keys()], this.#random);
    return conn === undefined ? [] : (byConn.get(conn) ?? []);
  }

  /** Returns true if the tenant's interest set changed; emits unless `emit` is false. */
  #released(tenant: string, pattern: string, emit = true): boolean {
    const patterns = this.#interest.get(tenant);
    const n = patterns?.get(pattern);
    if (patterns === undefined || n === undefined) return false;
    const total = (this.#tenantSubscriptions.get(tenant) ?? 1) - 1;
    if (total <= 0) this.#tenantSubscriptions.delete(tenant);
    else this.#tenantSubscriptions.set(tenant, total);
    if (n > 1) {
      patterns.set(pattern, n - 1);
      return false;
    }
    patterns.delete(pattern);
    if (!isLiteralPattern(pattern)) {
      const w = (this.#wildcardPatterns.get(tenant) ?? 1) - 1;
      if (w <= 0) this.#wildcardPatterns.delete(tenant);
      else this.#wildcardPatterns.set(tenant, w);
    }
    if (patterns.size === 0) this.#interest.delete(tenant);
    if (emit) this.#emitInterest(tenant);
    return true;
  }

  #interestChanged(tenant: string): void {
    this.#emitInterest(tenant);
  }

  #emitInterest(tenant: string): void {
    for (const l of this.#interestListeners) {
      try {
        l(tenant);
      } catch {
        // A failing listener (the mesh) must not break a subscribe on an edge.
      }
    }
  }
}
