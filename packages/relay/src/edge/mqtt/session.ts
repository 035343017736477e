// One MQTT session: the state that outlives a connection when the client asked for a
// persistent session (subscriptions, unacknowledged QoS 1 deliveries, a bounded queue), and the
// dispatcher sink its subscriptions point at. A connection attaches to it while it is open; a
// persistent session without a connection keeps queueing QoS 1 deliveries (bounded, in memory)
// until its client returns or it expires.
import { generate, type IPublishPacket } from 'mqtt-packet';
import type { DispatchMessage, Encodings, Sink } from '../../delivery/index.js';
import type { MqttMetrics } from './metrics.js';
import { channelToTopic } from './topics.js';

export type Qos = 0 | 1;

/** What a session needs from the connection it is attached to. */
export interface MqttOutput {
  readonly protocolVersion: 4 | 5;
  write(bytes: Buffer): void;
  /** True while the socket holds more unsent bytes than the outbound bound. */
  congested(): boolean;
}

export interface Delivery {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: Qos;
  readonly retain: boolean;
}

export interface SessionLimits {
  maxInflight: number;
  maxQueuedMessages: number;
}

export interface SessionSubscription {
  /** The FastPubSub pattern the filter maps to. */
  readonly pattern: string;
  readonly qos: Qos;
  /** Set for `$share/{group}/…` subscriptions: the shared group's key. */
  readonly sharedKey?: string;
}

export class MqttSession implements Sink {
  readonly edge = 'ws' as const; // unused: deliver() returns 0 and counts in the MQTT metrics
  readonly key: string;
  readonly tenant: string;
  readonly clientId: string;
  /** MQTT filter → subscription. */
  readonly subscriptions = new Map<string, SessionSubscription>();
  /** Kept after the connection ends (clean = false / MQTT 5 session expiry > 0). */
  persistent: boolean;
  /** Wall-clock ms after which an offline session is discarded. */
  expiresAtMs = Number.POSITIVE_INFINITY;
  readonly #limits: SessionLimits;
  readonly #metrics: MqttMetrics;
  /** Direct (non-shared) pattern → the highest QoS granted for it. */
  readonly #patternQos = new Map<string, Qos>();
  readonly #inflight = new Map<number, Delivery>();
  readonly #queue: Delivery[] = [];
  #output: MqttOutput | undefined;
  #nextPacketId = 1;

  constructor(key: string, tenant: string, clientId: string, persistent: boolean, limits: SessionLimits, metrics: MqttMetrics) {
    this.key = key;
    this.tenant = tenant;
    this.clientId = clientId;
    this.persistent = persistent;
    this.#limits = limits;
    this.#metrics = metrics;
  }

  get connection(): object {
    return this;
  }

  get online(): boolean {
    return this.#output !== undefined;
  }

  get queued(): number {
    return this.#queue.length;
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  /** Records a subscription; returns the previous one for that filter, if any. */
  addSubscription(filter: string, sub: SessionSubscription): SessionSubscription | undefined {
    const old = this.subscriptions.get(filter);
    this.subscriptions.set(filter, sub);
    this.#rebuildPatternQos();
    return old;
  }

  removeSubscription(filter: string): SessionSubscription | undefined {
    const old = this.subscriptions.get(filter);
    if (old === undefined) return undefined;
    this.subscriptions.delete(filter);
    this.#rebuildPatternQos();
    return old;
  }

  #rebuildPatternQos(): void {
    this.#patternQos.clear();
    for (const s of this.subscriptions.values()) {
      if (s.sharedKey !== undefined) continue;
      this.#patternQos.set(s.pattern, Math.max(s.qos, this.#patternQos.get(s.pattern) ?? 0) as Qos);
    }
  }

  /** Dispatcher sink: one PUBLISH per message, at the highest QoS among the matching filters. */
  deliver(msg: DispatchMessage, patterns: readonly string[], encodings: Encodings): number {
    let qos: Qos = 0;
    for (const p of patterns) if (this.#patternQos.get(p) === 1) qos = 1;
    const out = this.#output;
    if (qos === 0 && out !== undefined) {
      // QoS 0 packets carry no packet id: one encoding per protocol version serves every session.
      if (out.congested()) {
        this.#metrics.dropped('slow_consumer');
        return 0;
      }
      const frame = encodings.get('mqtt', `v${out.protocolVersion}`, (m) => encodePublish({ topic: channelToTopic(m.channel), payload: Buffer.from(m.payload), qos: 0, retain: false }, 0, false, out.protocolVersion));
      out.write(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)); // a view: every session writes the same bytes
      this.#metrics.messagesOut.inc();
      return 0;
    }
    this.send({ topic: channelToTopic(msg.channel), payload: Buffer.from(msg.payload), qos, retain: false });
    return 0;
  }

  /** Sends now, queues (QoS 1 without room or connection) or drops and counts. */
  send(d: Delivery): void {
    const out = this.#output;
    if (d.qos === 0) {
      if (out === undefined) return this.#metrics.dropped('offline_clean');
      if (out.congested()) return this.#metrics.dropped('slow_consumer');
      out.write(encodePublish(d, 0, false, out.protocolVersion));
      this.#metrics.messagesOut.inc();
      return;
    }
    if (out !== undefined && this.#queue.length === 0 && this.#inflight.size < this.#limits.maxInflight && !out.congested()) {
      this.#sendQos1(out, d);
      return;
    }
    if (this.#queue.length >= this.#limits.maxQueuedMessages) return this.#metrics.dropped('queue_full');
    this.#queue.push(d);
  }

  #sendQos1(out: MqttOutput, d: Delivery): void {
    const id = this.#allocateId();
    this.#inflight.set(id, d);
    out.write(encodePublish(d, id, false, out.protocolVersion));
    this.#metrics.messagesOut.inc();
  }

  #allocateId(): number {
    // maxInflight ≤ 65535, so a free id exists; the loop ends within maxInflight + 1 steps.
    for (;;) {
      const id = this.#nextPacketId;
      this.#nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.#inflight.has(id)) return id;
    }
  }

  /** PUBACK from the client. */
  acknowledge(packetId: number): void {
    if (this.#inflight.delete(packetId)) this.pump();
  }

  /** Moves queued deliveries to the connection while there is room. */
  pump(): void {
    const out = this.#output;
    if (out === undefined) return;
    while (this.#queue.length > 0 && this.#inflight.size < this.#limits.maxInflight && !out.congested()) {
      const d = this.#queue.shift();
      if (d !== undefined) this.#sendQos1(out, d);
    }
  }

  /** A connection takes the session; a resumed session re-sends what was unacknowledged (DUP). */
  attach(out: MqttOutput, resumed: boolean): void {
    this.#output = out;
    if (resumed) {
      for (const [id, d] of this.#inflight) {
        out.write(encodePublish(d, id, true, out.protocolVersion));
        this.#metrics.messagesOut.inc();
      }
    } else {
      this.#inflight.clear();
      this.#queue.length = 0;
    }
    this.pump();
  }

  detach(out: MqttOutput): void {
    if (this.#output === out) this.#output = undefined;
  }
}

export function encodePublish(d: Delivery, packetId: number, dup: boolean, protocolVersion: 4 | 5): Buffer {
  const packet: IPublishPacket = { cmd: 'publish', topic: d.topic, payload: d.payload, qos: d.qos, retain: d.retain, dup };
  if (d.qos > 0) packet.messageId = packetId;
  return generate(packet, { protocolVersion });
}
