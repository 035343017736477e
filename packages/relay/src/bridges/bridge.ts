// One configured bridge between FastPubSub channels and a NATS server or Redis. While this PoP
// carries it (see CarrierView), in-bound messages are published into the dispatcher marked
// with the bridge id, and a dispatcher sink sends matching channels out; a message that came
// in through this bridge is never sent back out (docs/bridges.md "No loops").
import { performance } from 'node:perf_hooks';
import type { BridgeConfig, Logger } from '@fastpubsub/core';
import type { DispatchMessage, Dispatcher, Sink } from '../delivery/index.js';
import { Backoff, type BusHandler, type ExternalBus } from './bus.js';
import { Mapping, type ExternalKind } from './mapping.js';
import type { BridgeMetrics } from './metrics.js';
import { NatsBus } from './nats-bus.js';
import { RedisBus } from './redis-bus.js';

/** Who carries a bridge: the lowest-id live PoP that configures it (docs/bridges.md). */
export interface CarrierView {
  /** This PoP's mesh id; undefined without a mesh, and then this PoP always carries. */
  readonly selfId: string | undefined;
  /** Sorted ids of the live PoPs (self included) holding interest in (tenant, channel). */
  livePopsWanting(tenant: string, channel: string): string[];
}

/** Every PoP configuring bridge X subscribes this marker, so the mesh's interest gossip tells who they are. */
export const MARKER_TENANT = '~fps';
export const markerChannel = (bridgeId: string): string => `bridge.${bridgeId}`;

export class Bridge {
  readonly config: BridgeConfig;
  readonly kind: ExternalKind;
  readonly mappings: Mapping[];
  readonly #dispatcher: Dispatcher;
  readonly #metrics: BridgeMetrics;
  readonly #logger: Logger;
  readonly #marker: Sink;
  readonly #out: Sink;
  #bus: ExternalBus | undefined;
  #carrier = false;

  constructor(config: BridgeConfig, dispatcher: Dispatcher, metrics: BridgeMetrics, logger: Logger) {
    this.config = config;
    this.kind = config.url.startsWith('nats://') ? 'nats' : 'redis';
    this.mappings = config.mappings.map((m) => new Mapping(m, this.kind));
    this.#dispatcher = dispatcher;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#marker = { connection: {}, edge: 'ws', deliver: () => 0 };
    const out: Sink = { connection: {}, edge: 'ws', deliver: (msg, patterns) => this.#sendOut(msg, patterns) };
    this.#out = out;
    dispatcher.subscribe(MARKER_TENANT, markerChannel(config.id), this.#marker);
  }

  get id(): string {
    return this.config.id;
  }

  get carrier(): boolean {
    return this.#carrier;
  }

  get up(): boolean {
    return this.#bus?.up === true;
  }

  /** Re-evaluates who carries the bridge; starts or stops carrying it here. */
  elect(view: CarrierView): void {
    const self = view.selfId;
    const carrier = self === undefined || (view.livePopsWanting(MARKER_TENANT, markerChannel(this.id))[0] ?? self) === self;
    if (carrier === this.#carrier) return;
    this.#carrier = carrier;
    this.#logger.info(carrier ? 'carrying bridge' : 'another PoP carries the bridge', { bridge: this.id });
    if (carrier) this.#activate();
    else void this.#deactivate();
  }

  #activate(): void {
    const c = this.config;
    const backoff = new Backoff(c.reconnectMinMs, c.reconnectMaxMs);
    const bus: ExternalBus = this.kind === 'nats' ? new NatsBus(c.url, c.id, backoff, this.#logger) : new RedisBus(c.url, c.id, backoff, this.#logger);
    this.#bus = bus;
    const handler: BusHandler = {
      onMessage: (subject, payload, ownEcho) => this.#receive(subject, payload, ownEcho),
      onUp: () => this.#logger.info('bridge connected', { bridge: this.id, url: c.url }),
      onDown: (reason) => {
        this.#metrics.disconnected(this.id);
        this.#logger.warn('bridge disconnected', { bridge: this.id, reason });
      },
    };
    bus.start([...new Set(this.mappings.filter((m) => m.inbound).map((m) => m.external))], handler);
    for (const m of this.mappings) if (m.outbound) this.#dispatcher.subscribe(c.tenant, m.channel, this.#out);
  }

  async #deactivate(): Promise<void> {
    this.#dispatcher.removeSink(this.#out);
    const bus = this.#bus;
    this.#bus = undefined;
    await bus?.close();
  }

  #receive(subject: string, payload: Uint8Array, ownEcho: boolean): void {
    if (ownEcho) return this.#metrics.dropped(this.id, 'loop');
    const mapping = this.mappings.find((m) => m.inbound && m.toChannel(subject) !== undefined);
    const channel = mapping?.toChannel(subject);
    if (channel === undefined) return this.#metrics.dropped(this.id, 'unmappable');
    this.#metrics.carried(this.id, 'in');
    this.#dispatcher.publish({ tenant: this.config.tenant, channel, payload, mode: 0, arrivedAtMs: performance.now(), origin: 'bridge', bridgeId: this.id });
  }

  #sendOut(msg: DispatchMessage, patterns: readonly string[]): number {
    if (msg.bridgeId === this.id) {
      this.#metrics.dropped(this.id, 'loop');
      return 0;
    }
    const mapping = this.mappings.find((m) => m.outbound && patterns.includes(m.channel));
    const subject = mapping?.toExternal(msg.channel);
    if (subject === undefined) {
      this.#metrics.dropped(this.id, 'unmappable');
      return 0;
    }
    if (this.#bus?.publish(subject, Buffer.from(msg.payload)) !== true) {
      this.#metrics.dropped(this.id, 'down');
      return 0;
    }
    this.#metrics.carried(this.id, 'out');
    return 0;
  }

  async close(): Promise<void> {
    this.#dispatcher.removeSink(this.#marker);
    this.#carrier = false;
    await this.#deactivate();
  }
}
