// The one fan-out core of a relay. Both edges (and the mesh) hand it accepted publishes; it
// owns the subscription index over heterogeneous sinks (WebSocket connections, QUIC
// subscription streams), matches, picks for deliver-one, memoises encodings per publish and
// keeps the delivery metrics. Hooks for the mesh: a forwarder for locally originated publishes,
// deliverRemote() for publishes that came from another PoP, and interest-change notifications.
import { performance } from 'node:perf_hooks';
import { SubscriptionIndex, pickOne } from '../fanout/index.js';
import type { EdgeName, RelayMetrics } from '../metrics.js';
import { Encodings } from './encodings.js';
import type { DispatchMessage, Sink } from './types.js';

export interface DispatcherOptions {
  metrics: RelayMetrics;
  /** Uniform [0, 1) for deliver-one picks. */
  random: () => number;
  /** Result cache of the subscription index (see SubscriptionIndexOptions). */
  cacheSize?: number;
}

export type Forwarder = (msg: DispatchMessage) => void;
/** Sees every publish an edge accepted here (per-channel statistics). */
export type PublishObserver = (msg: DispatchMessage) => void;
export type InterestListener = (tenant: string) => void;

export class Dispatcher {
  readonly #index: SubscriptionIndex<Sink>;
  readonly #metrics: RelayMetrics;
  readonly #random: () => number;
  /** tenant → distinct pattern → sinks holding it: tells when a tenant's interest set changes. */
  readonly #interest = new Map<string, Map<string, number>>();
  readonly #interestListeners = new Set<InterestListener>();
  #forwarder: Forwarder | undefined;
  #observer: PublishObserver | undefined;

  constructor(opts: DispatcherOptions) {
    this.#metrics = opts.metrics;
    this.#random = opts.random;
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
    if (patterns === undefined) this.#interest.set(tenant, (patterns = new Map()));
    const n = patterns.get(pattern) ?? 0;
    patterns.set(pattern, n + 1);
    if (n === 0) this.#interestChanged(tenant);
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

  /** Called with a tenant whenever its set of distinct patterns changes; returns an unsubscribe. */
  onInterestChange(listener: InterestListener): () => void {
    this.#interestListeners.add(listener);
    return () => this.#interestListeners.delete(listener);
  }

  /** A publish accepted by one of this relay's edges: local fan-out, then the mesh forwarder. */
  publish(msg: DispatchMessage): void {
    if (msg.origin !== 'system' && msg.origin !== 'mesh') this.#observer?.(msg);
    this.#fanOut(msg);
    if (msg.origin !== 'mesh') this.#forwarder?.(msg);
  }

  /** A publish from another PoP: local fan-out only, never forwarded again. */
  deliverRemote(msg: DispatchMessage): void {
    this.#fanOut(msg);
  }

  #fanOut(msg: DispatchMessage): void {
    const matches = this.#index.match(msg.tenant, msg.channel);
    if (matches.size === 0) {
      // The relay's own network state is published whether or not anyone listens: not a drop.
      if (msg.origin !== 'system') this.#metrics.dropped('no_subscribers');
      return;
    }
    const enc = new Encodings(msg);
    // Direct writes per edge; a relay has two edges, so two plain variables beat a map.
    let wsCount = 0;
    let wsBytes = 0;
    let quicCount = 0;
    let quicBytes = 0;
    const count = (edge: EdgeName, bytes: number): void => {
      if (bytes <= 0) return;
      if (edge === 'ws') {
        wsCount++;
        wsBytes += bytes;
      } else {
        quicCount++;
        quicBytes += bytes;
      }
    };

    if (msg.mode !== 0) {
      // Deliver-one (contract §10.7): uniform over connections, the publisher's included. A
      // QUIC connection may hold several matching subscription streams: each of them gets it.
      let byConn: Map<object, Sink[]> | undefined;
      let plain = true;
      for (const sink of matches.keys()) {
        if (sink.connection !== sink) plain = false;
      }
      let targets: readonly Sink[];
      if (plain) {
        const one = pickOne<Sink>([...matches.keys()], this.#random);
        targets = one === undefined ? [] : [one];
      } else {
        byConn = new Map();
        for (const sink of matches.keys()) {
          const list = byConn.get(sink.connection);
          if (list === undefined) byConn.set(sink.connection, [sink]);
          else list.push(sink);
        }
        const conn = pickOne<object>([...byConn.keys()], this.#random);
        targets = conn === undefined ? [] : (byConn.get(conn) ?? []);
      }
      for (const sink of targets) {
        const patterns = matches.get(sink);
        if (patterns !== undefined) count(sink.edge, sink.deliver(msg, patterns, enc));
      }
    } else {
      for (const [sink, patterns] of matches) count(sink.edge, sink.deliver(msg, patterns, enc));
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
  }

  /** Returns true if the tenant's interest set changed; emits unless `emit` is false. */
  #released(tenant: string, pattern: string, emit = true): boolean {
    const patterns = this.#interest.get(tenant);
    const n = patterns?.get(pattern);
    if (patterns === undefined || n === undefined) return false;
    if (n > 1) {
      patterns.set(pattern, n - 1);
      return false;
    }
    patterns.delete(pattern);
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
