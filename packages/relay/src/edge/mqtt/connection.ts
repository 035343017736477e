// One MQTT connection (3.1.1 or 5.0): decodes packets with mqtt-packet, authenticates the
// CONNECT (username = tenant, password = access token), applies the token's grants to every
// PUBLISH and SUBSCRIBE (a refusal is a reason code, never a disconnect), and writes the
// session's deliveries. Protocol violations (malformed or oversize packets, a packet before
// CONNECT) end the connection with an MQTT 5 DISCONNECT reason where the version has one.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { generate, parser as createParser, type IConnectPacket, type IPublishPacket, type ISubscribePacket, type IUnsubscribePacket, type Packet, type Parser } from 'mqtt-packet';
import { isFpsError, validateTenantName } from './names.js';
import { TokenBucket } from '../../limits/index.js';
import type { EdgeTicket } from '../../auth/edge-ticket.js';
import { Reason, SUBACK_FAILURE_V4, connackV4 } from './codes.js';
import type { MqttContext } from './context.js';
import type { MqttErrorReason } from './metrics.js';
import type { MqttOutput, MqttSession, Qos } from './session.js';
import { filterToPattern, parseShared, topicToChannel } from './topics.js';

/** Packets a client may pipeline behind its CONNECT while the token is being verified. */
const MAX_PENDING_PACKETS = 64;

interface Will {
  channel: string;
  payload: Buffer;
  qos: Qos;
  retain: boolean;
}

export class MqttConnection implements MqttOutput {
  readonly socket: Socket;
  protocolVersion: 4 | 5 = 4;
  ticket: EdgeTicket | undefined;
  readonly #ctx: MqttContext;
  readonly #parser: Parser;
  #state: 'new' | 'authenticating' | 'open' | 'closed' = 'new';
  #pending: Packet[] = [];
  #session: MqttSession | undefined;
  #will: Will | undefined;
  #expiryMs = 0;
  #keepaliveMs = 0;
  #lastPacketMs = performance.now();
  #timer: NodeJS.Timeout;
  #corked = false;
  readonly #subscribeBucket: TokenBucket;

  constructor(ctx: MqttContext, socket: Socket) {
    this.#ctx = ctx;
    this.socket = socket;
    this.#subscribeBucket = new TokenBucket(ctx.config.subscribesPerSecond, ctx.config.subscribesPerSecond, ctx.now());
    this.#parser = createParser();
    this.#parser.on('packet', (p: Packet) => this.#onPacket(p));
    this.#parser.on('error', (err: Error) => {
      if (this.#state === 'closed') return;
      ctx.logger.debug('mqtt malformed packet', { err: err.message });
      this.#fail('malformed_packet', Reason.MalformedPacket);
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#session?.pump());
    // One timer serves the CONNECT deadline and then the keep-alive (MQTT §3.1.2.10: 1.5 × keep-alive).
    this.#timer = setInterval(() => this.#tick(), Math.min(1000, ctx.config.connectTimeoutMs));
    this.#timer.unref();
  }

  /** A getter, so TypeScript does not narrow the state across the parser's callbacks. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Writes within one tick go out in one syscall (a burst of deliveries, a SUBACK and its retained messages). */
  write(bytes: Buffer): void {
    if (this.#state === 'closed') return;
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
  }

  congested(): boolean {
    return this.socket.writableLength > this.#ctx.limits.outboundQueueBytes;
  }

  #send(packet: Packet): void {
    this.write(generate(packet, { protocolVersion: this.protocolVersion }));
  }

  #tick(): void {
    const idle = performance.now() - this.#lastPacketMs;
    if (this.#state === 'new' || this.#state === 'authenticating') {
      if (idle > this.#ctx.config.connectTimeoutMs) this.#fail('connect_timeout', Reason.ProtocolError);
    } else if (this.#state === 'open' && this.#keepaliveMs > 0 && idle > this.#keepaliveMs * 1.5) {
      this.#fail('keepalive_timeout', Reason.KeepAliveTimeout);
    }
  }

  #onData(chunk: Buffer): void {
    if (this.#state === 'closed') return;
    this.#lastPacketMs = performance.now();
    // mqtt-packet has no size limit of its own: refuse a packet as soon as its declared or
    // buffered length passes ours, before it is buffered whole.
    const buffered = this.#parser.parse(chunk);
    const declared = (this.#parser as unknown as { packet?: { length?: number } }).packet?.length ?? -1;
    if (!this.closed && (buffered > this.#ctx.config.maxPacketBytes || declared > this.#ctx.config.maxPacketBytes)) {
      this.#fail('packet_too_large', Reason.PacketTooLarge);
    }
  }

  #onPacket(p: Packet): void {
    if (this.#state === 'closed') return;
    try {
      if (this.#state === 'new') {
        if (p.cmd !== 'connect') return this.#fail('protocol_error', Reason.ProtocolError);
        this.#state = 'authenticating';
        this.#connect(p).catch((err: unknown) => {
          this.#ctx.logger.error('mqtt connect failed', { err });
          this.#fail('protocol_error', Reason.ImplementationSpecificError);
        });
        return;
      }
      if (this.#state === 'authenticating') {
        if (this.#pending.length >= MAX_PENDING_PACKETS) return this.#fail('protocol_error', Reason.ProtocolError);
        this.#pending.push(p);
        return;
      }
      this.#handle(p);
    } catch (err) {
      this.#ctx.logger.error('mqtt packet handling failed', { err });
      this.#fail('protocol_error', Reason.ImplementationSpecificError);
    }
  }

  #handle(p: Packet): void {
    const session = this.#session;
    if (session === undefined) return;
    switch (p.cmd) {
      case 'publish':
        return this.#publish(p);
      case 'puback':
        if (p.messageId !== undefined) session.acknowledge(p.messageId);
        return;
      case 'pubrel':
        // QoS 2 is handled as QoS 1 (docs/mqtt.md): the message went out on PUBLISH; close the handshake.
        return this.#send({ cmd: 'pubcomp', messageId: p.messageId ?? 0 });
      case 'pubrec':
      case 'pubcomp':
        return; // we never send QoS 2
      case 'subscribe':
        return this.#subscribe(p);
      case 'unsubscribe':
        return this.#unsubscribe(p);
      case 'pingreq':
        return this.#send({ cmd: 'pingresp' });
      case 'disconnect':
        // A normal DISCONNECT discards the will; MQTT 5 reason 0x04 asks for it.
        if (p.reasonCode !== Reason.DisconnectWithWill) this.#will = undefined;
        if (this.protocolVersion === 5 && p.properties?.sessionExpiryInterval !== undefined) {
          this.#expiryMs = Math.min(this.#ctx.config.sessionExpiryMs, p.properties.sessionExpiryInterval * 1000);
        }
        this.socket.end();
        return;
      default:
        return this.#fail('protocol_error', Reason.ProtocolError);
    }
  }

  async #connect(p: IConnectPacket): Promise<void> {
    const ctx = this.#ctx;
    const version = p.protocolVersion ?? 4;
    this.protocolVersion = version === 5 ? 5 : 4;
    if (version !== 4 && version !== 5) return this.#refuseConnect('unsupported_protocol', Reason.UnsupportedProtocolVersion, 'MQTT 3.1.1 and 5.0 only');
    const tenant = p.username ?? '';
    const invalidTenant = validateTenantName(tenant);
    if (invalidTenant !== undefined) return this.#refuseConnect('bad_credentials', Reason.BadUserNameOrPassword, `username must be the tenant: ${invalidTenant}`);
    let ticket: EdgeTicket;
    try {
      ticket = await ctx.verifier.verify(p.password?.toString('utf8'), { ip: this.socket.remoteAddress ?? '', region: ctx.region });
    } catch (err) {
      if (!isFpsError(err)) throw err;
      const reason = err.code === 'forbidden' ? Reason.NotAuthorized : Reason.BadUserNameOrPassword;
      return this.#refuseConnect(reason === Reason.NotAuthorized ? 'not_authorized' : 'bad_credentials', reason, `password must be an access token: ${err.code}`);
    }
    if (this.#state === 'closed') return ticket.release?.();
    this.ticket = ticket;
    if (p.will !== undefined) {
      const mapped = topicToChannel(p.will.topic);
      if (!mapped.ok) return this.#refuseConnect('invalid_topic', Reason.TopicNameInvalid, `will topic: ${mapped.reason}`);
      if (!ticket.canPublish(tenant, mapped.value)) return this.#refuseConnect('not_authorized', Reason.NotAuthorized, 'the token may not publish the will topic');
      const payload = Buffer.from(p.will.payload);
      this.#will = { channel: mapped.value, payload, qos: p.will.qos === 0 ? 0 : 1, retain: p.will.retain === true };
    }
    const cleanStart = p.clean !== false;
    // MQTT 5: the session lasts sessionExpiryInterval after the connection; 3.1.1: clean = false keeps it.
    const wantedExpiryMs = version === 5 ? (p.properties?.sessionExpiryInterval ?? 0) * 1000 : cleanStart ? 0 : Number.POSITIVE_INFINITY;
    this.#expiryMs = Math.min(wantedExpiryMs, ctx.config.sessionExpiryMs);
    let clientId = p.clientId;
    let assigned: string | undefined;
    if (clientId === '') {
      if (version === 4 && !cleanStart) return this.#refuseConnect('protocol_error', Reason.ClientIdentifierNotValid, 'a persistent session needs a client id');
      clientId = assigned = `fps-${Math.random().toString(36).slice(2, 12)}`;
    }
    const { session, present } = ctx.openSession(tenant, clientId, cleanStart, this.#expiryMs > 0, this);
    this.#session = session;
    this.#keepaliveMs = (p.keepalive ?? 0) * 1000;
    this.#state = 'open';
    this.#send({
      cmd: 'connack',
      sessionPresent: present,
      ...(version === 5
        ? {
            reasonCode: Reason.Success,
            properties: {
              maximumPacketSize: ctx.config.maxPacketBytes,
              retainAvailable: true,
              sharedSubscriptionAvailable: true,
              wildcardSubscriptionAvailable: true,
              subscriptionIdentifiersAvailable: false,
              topicAliasMaximum: 0,
              ...(assigned === undefined ? {} : { assignedClientIdentifier: assigned }),
            },
          }
        : { returnCode: 0 }),
    });
    session.attach(this, present);
    const pending = this.#pending;
    this.#pending = [];
    for (const q of pending) if (this.#state === 'open') this.#handle(q);
  }

  #refuseConnect(metric: MqttErrorReason, reason: number, text: string): void {
    this.#ctx.metrics.error(metric);
    if (this.protocolVersion === 5) this.#send({ cmd: 'connack', sessionPresent: false, reasonCode: reason, properties: { reasonString: text } });
    else this.#send({ cmd: 'connack', sessionPresent: false, returnCode: connackV4(reason) });
    this.#close();
  }

  #publish(p: IPublishPacket): void {
    const arrivedAtMs = performance.now();
    const ctx = this.#ctx;
    const ticket = this.ticket;
    const session = this.#session;
    if (ticket === undefined || session === undefined) return;
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    const refuse = (metric: MqttErrorReason, reason: number, text: string): void => {
      ctx.metrics.error(metric);
      this.#acknowledgePublish(p, reason, text);
    };
    const mapped = topicToChannel(p.topic);
    if (!mapped.ok) return refuse('invalid_topic', Reason.TopicNameInvalid, mapped.reason);
    const channel = mapped.value;
    if (payload.byteLength > ctx.limits.maxPayloadBytes) return refuse('payload_too_large', Reason.ImplementationSpecificError, `payload above ${ctx.limits.maxPayloadBytes} bytes`);
    if (ticket.isExpired(ctx.now())) return refuse('not_authorized', Reason.NotAuthorized, 'token expired');
    if (!ticket.canPublish(session.tenant, channel)) return refuse('not_authorized', Reason.NotAuthorized, 'the token may not publish to this topic');
    if (ctx.admission?.admitPublish(session.tenant, channel, payload.byteLength, ctx.now()) === 'rate_limited') {
      return refuse('rate_limited', Reason.QuotaExceeded, 'rate limited');
    }
    ctx.metrics.messagesIn.inc();
    if (p.retain && ctx.retained.set(session.tenant, channel, payload, p.qos === 0 ? 0 : 1) === 'full') ctx.metrics.dropped('retained_full');
    ctx.dispatcher.publish({ tenant: session.tenant, channel, payload, mode: 0, arrivedAtMs, origin: 'mqtt' });
    this.#acknowledgePublish(p, Reason.Success, undefined);
  }

  /** PUBACK (QoS 1) or PUBREC (QoS 2, handled as 1); nothing for QoS 0. */
  #acknowledgePublish(p: IPublishPacket, reason: number, text: string | undefined): void {
    if (p.qos === 0 || p.messageId === undefined) return;
    const cmd = p.qos === 2 ? 'pubrec' : 'puback';
    if (this.protocolVersion === 5) this.#send({ cmd, messageId: p.messageId, reasonCode: reason, ...(text === undefined ? {} : { properties: { reasonString: text } }) });
    else this.#send({ cmd, messageId: p.messageId });
  }

  #subscribe(p: ISubscribePacket): void {
    const ctx = this.#ctx;
    const session = this.#session;
    const ticket = this.ticket;
    if (session === undefined || ticket === undefined) return;
    const v5 = this.protocolVersion === 5;
    const refused = (metric: MqttErrorReason, reason: number): number => {
      ctx.metrics.error(metric);
      return v5 ? reason : SUBACK_FAILURE_V4;
    };
    const rateOk = this.#subscribeBucket.take(1, ctx.now());
    const retainedToSend: Array<{ pattern: string; qos: Qos }> = [];
    const granted = p.subscriptions.map((s): number => {
      if (!rateOk) return refused('subscribe_rate', Reason.QuotaExceeded);
      const shared = parseShared(s.topic);
      if (shared !== undefined && 'error' in shared) return refused('invalid_topic', Reason.TopicFilterInvalid);
      const mapped = filterToPattern(shared === undefined ? s.topic : shared.filter);
      if (!mapped.ok) return refused('invalid_topic', Reason.TopicFilterInvalid);
      if (ticket.isExpired(ctx.now()) || !ticket.canSubscribe(session.tenant, mapped.value)) return refused('not_authorized', Reason.NotAuthorized);
      if (!session.subscriptions.has(s.topic) && session.subscriptions.size >= ctx.limits.maxSubscriptionsPerConnection) {
        return refused('too_many_subscriptions', Reason.QuotaExceeded);
      }
      const qos: Qos = s.qos === 0 ? 0 : 1; // QoS 2 is granted as 1 (docs/mqtt.md)
      const isNew = !session.subscriptions.has(s.topic);
      ctx.subscribe(session, s.topic, mapped.value, qos, shared?.group);
      // MQTT 5 retain handling: 0 always, 1 only for a new subscription, 2 never; none for shared ones.
      const rh = s.rh ?? 0;
      if (shared === undefined && (rh === 0 || (rh === 1 && isNew))) retainedToSend.push({ pattern: mapped.value, qos });
      return qos;
    });
    this.#send({ cmd: 'suback', messageId: p.messageId ?? 0, granted });
    for (const { pattern, qos } of retainedToSend) {
      for (const m of ctx.retained.match(session.tenant, pattern)) {
        session.send({ topic: m.channel.split('.').join('/'), payload: m.payload, qos: Math.min(qos, m.qos) as Qos, retain: true });
      }
    }
  }

  #unsubscribe(p: IUnsubscribePacket): void {
    const session = this.#session;
    if (session === undefined) return;
    const granted = p.unsubscriptions.map((filter) => (this.#ctx.unsubscribe(session, filter) ? Reason.Success : Reason.NoSubscriptionExisted));
    if (this.protocolVersion === 5) this.#send({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted });
    else this.#send({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted: [] });
  }

  /** Ends the connection for a protocol or policy reason: counted, told (MQTT 5), will published. */
  #fail(metric: MqttErrorReason, reason: number, quiet = false): void {
    if (this.#state === 'closed') return;
    if (!quiet) this.#ctx.metrics.error(metric);
    if (this.protocolVersion === 5 && this.#state === 'open') this.#send({ cmd: 'disconnect', reasonCode: reason });
    this.#close();
  }

  /** Another connection resumed this one's session (MQTT §3.1.4: the older one is closed). */
  takenOver(): void {
    this.#fail('protocol_error', Reason.SessionTakenOver, true);
  }

  /** Disconnect on shutdown or revocation (MQTT 5 reason code). */
  disconnect(reason: number): void {
    if (this.#state === 'closed') return;
    if (this.protocolVersion === 5 && this.#state === 'open') this.#send({ cmd: 'disconnect', reasonCode: reason });
    this.#close();
  }

  #close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Called once the socket has closed, however that happened. */
  dispose(): void {
    const wasOpen = this.#session !== undefined;
    this.#state = 'closed';
    clearInterval(this.#timer);
    this.ticket?.release?.();
    const session = this.#session;
    if (!wasOpen || session === undefined) return;
    const will = this.#will;
    this.#will = undefined;
    if (will !== undefined) this.#publishWill(session.tenant, will);
    this.#ctx.closeSession(session, this, this.#expiryMs);
  }

  #publishWill(tenant: string, will: Will): void {
    const ctx = this.#ctx;
    ctx.metrics.willsPublished.inc();
    if (will.retain && ctx.retained.set(tenant, will.channel, will.payload, will.qos) === 'full') ctx.metrics.dropped('retained_full');
    ctx.dispatcher.publish({ tenant, channel: will.channel, payload: will.payload, mode: 0, arrivedAtMs: performance.now(), origin: 'mqtt' });
  }
}
