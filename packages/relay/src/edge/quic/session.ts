// One QUIC client connection: its control stream (AUTH first, then SUB/UNSUB/PUB/PING in native
// frames, replies OK/ERR/PONG), its subscriptions (one unidirectional stream each) and its
// PUB datagrams. Frames are handled synchronously in arrival order, like the WebSocket edge
// (contract §4 "Order"); while AUTH is being verified later frames wait in arrival order.
import { performance } from 'node:perf_hooks';
import type { FlushBatcher, QuicConnection, QuicStream } from '@fastpubsub/quic';
import { ErrorCode, isFpsError, type Logger, type RelayConfig } from '@fastpubsub/core';
import {
  FrameDecoder,
  FrameType,
  HEADER_SIZE,
  SubFlags,
  decodeAuth,
  decodeFrame,
  decodePing,
  decodePub,
  decodeSub,
  decodeUnsub,
  encodeErr,
  encodeOk,
  encodePong,
  isWireError,
  validateChannel,
  validatePattern,
  validateTenant,
  type Frame,
} from '@fastpubsub/wire';
import type { Dispatcher } from '../../delivery/index.js';
import { subscribeRefusal, type Admission, type TenantCapacity } from '../../limits/index.js';
import type { RelayMetrics } from '../../metrics.js';
import type { EdgeTicket, TicketVerifier } from '../../auth/edge-ticket.js';
import { QuicCloseCode, QuicStreamCode } from '@fastpubsub/wire';
import { QuicSubscription, type SubscriptionOwner } from './subscription.js';
import type { ObservedConnection } from '../connection-observer.js';
import { QuicPresence } from './presence.js';
import type { PresenceService } from '../../presence/service.js';

// A client that does not read its control stream must not make us buffer without bound.
const MAX_CONTROL_BUFFERED = 4 * 1024 * 1024;

export interface QuicSessionContext {
  readonly dispatcher: Dispatcher;
  readonly metrics: RelayMetrics;
  readonly config: RelayConfig;
  readonly verifier: TicketVerifier;
  readonly batcher: FlushBatcher;
  readonly logger: Logger;
  readonly now: () => number;
  readonly admission?: Admission | undefined;
  readonly capacity?: TenantCapacity | undefined;
  /** Presence (PRESENCE frames); absent: they are refused. */
  readonly presence?: PresenceService | undefined;
  /** The session authenticated (the edge indexes it by token); false: no capacity, refuse it. */
  onAuthenticated(session: QuicSession): boolean;
}

/** A refused frame: thrown inside a handler, answered with ERR by the frame loop. */
class Refusal extends Error {
  constructor(
    readonly code: string,
    readonly detail = '',
  ) {
    super(detail === '' ? code : `${code}: ${detail}`);
  }
}

export class QuicSession implements SubscriptionOwner {
  readonly id: number;
  readonly connection: QuicConnection;
  readonly #ctx: QuicSessionContext;
  readonly #decoder = new FrameDecoder();
  readonly #subs = new Map<number, QuicSubscription>();
  #control: QuicStream | undefined;
  #ticket: EdgeTicket | undefined;
  /** Frames that arrived while AUTH was being verified. */
  #waiting: Frame[] | undefined;
  #presence: QuicPresence | undefined;
  #authTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Connection insights' record of this connection (bot signals), set by the edge. */
  observed: ObservedConnection | undefined;

  constructor(ctx: QuicSessionContext, id: number, connection: QuicConnection) {
    this.#ctx = ctx;
    this.id = id;
    this.connection = connection;
    this.#authTimer = setTimeout(() => this.close(QuicCloseCode.AuthTimeout, ErrorCode.Unauthorized), ctx.config.quic.authTimeoutMs);
    this.#authTimer.unref();
    connection.on('stream', (s) => this.#onStream(s));
    connection.on('datagram', (d) => this.#onDatagram(d));
  }

  get ticket(): EdgeTicket | undefined {
    return this.#ticket;
  }

  get subscriptionCount(): number {
    return this.#subs.size;
  }

  /** Sends ERR(code, 0) on the control stream: not tied to a request (e.g. `reconnect`). */
  notify(code: string, detail = ''): void {
    this.#send(encodeErr({ code, id: 0, detail }));
  }

  /** Closes the connection with an application code; the reason is the ErrorCode. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const sub of this.#subs.values()) sub.reset(QuicStreamCode.Cancelled);
    this.connection.close(code, reason);
  }

  /** Called once the connection is gone, however that happened. */
  dispose(): void {
    this.#closed = true;
    clearTimeout(this.#authTimer);
    for (const sub of this.#subs.values()) this.#ctx.dispatcher.removeSink(sub);
    this.#subs.clear();
    this.#presence?.dispose();
    this.#ticket?.release?.();
  }

  #onStream(s: QuicStream): void {
    if (this.#control === undefined && s.direction === 'bidi') {
      this.#control = s;
      s.on('data', (chunk) => this.#onControlData(chunk));
      s.on('end', () => this.close(QuicCloseCode.Normal, 'control stream finished'));
      s.on('reset', () => this.close(QuicCloseCode.Normal, 'control stream reset'));
      return;
    }
    // Only the control stream is defined from the client side.
    try {
      s.stopSending(QuicStreamCode.Unexpected);
      if (s.writable) s.reset(QuicStreamCode.Unexpected);
    } catch {
      // already gone
    }
  }

  #send(frame: Uint8Array): void {
    const c = this.#control;
    if (c === undefined || this.#closed || c.closed) return;
    c.write(frame);
    if (c.writableLength > MAX_CONTROL_BUFFERED) this.close(QuicCloseCode.SlowConsumer, ErrorCode.SlowConsumer);
  }

  #error(code: string, id: number, detail = ''): void {
    this.#ctx.metrics.error(code);
    this.#send(encodeErr({ code, id, detail }));
  }

  #onControlData(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      this.#decoder.feed(chunk, (f) => {
        if (this.#waiting !== undefined) this.#waiting.push(f);
        else this.#onFrame(f);
      });
    } catch (err) {
      if (!isWireError(err)) throw err;
      // After a bad header the byte stream cannot be re-synchronised (spec §3 step 6).
      this.#error(err.code, 0, err.message);
      this.close(QuicCloseCode.ProtocolError, err.code);
    }
  }

  #onFrame(f: Frame): void {
    if (this.#closed) return;
    try {
      if (this.#ticket === undefined) return this.#onAuth(f);
      switch (f.type) {
        case FrameType.SUB:
          return this.#onSub(f);
        case FrameType.UNSUB:
          return this.#onUnsub(f);
        case FrameType.PUB:
          return this.#onPub(f);
        case FrameType.PRESENCE:
          return this.#onPresence(f);
        case FrameType.PING:
          return this.#send(encodePong(decodePing(f)));
        case FrameType.PONG:
          return;
        case FrameType.AUTH:
          return this.#error(ErrorCode.BadRequest, 0, 'already authenticated');
        case FrameType.MSG:
        case FrameType.OK:
        case FrameType.ERR:
        case FrameType.DMSG:
        case FrameType.PRESENCE_INFO:
          return this.#error('bad_frame', 0, `a client does not send ${f.type}`);
        default: {
          const never: never = f.type;
          return this.#error('bad_frame', 0, `unknown frame type ${String(never)}`);
        }
      }
    } catch (err) {
      if (err instanceof Refusal) return this.#error(err.code, idOf(f), err.detail);
      if (isWireError(err)) return this.#error(err.code, idOf(f), err.message);
      // A bug must cost one ERR reply, not the process and every other connection with it.
      this.#ctx.logger.error('quic frame handling failed', { conn: this.id, err });
      this.#error(ErrorCode.Internal, 0);
    }
  }

  #onAuth(f: Frame): void {
    if (f.type !== FrameType.AUTH) {
      this.#error(ErrorCode.Unauthorized, 0, 'AUTH must be the first frame');
      return this.#closeSoon(QuicCloseCode.Unauthorized, ErrorCode.Unauthorized);
    }
    const { token } = decodeAuth(f);
    const ctx = this.#ctx;
    this.#waiting = [];
    ctx.verifier.verify(token, { ip: this.connection.remoteAddress.host, region: ctx.config.region }).then(
      (ticket) => {
        if (this.#closed) return ticket.release?.();
        clearTimeout(this.#authTimer);
        // The same protocol over a WebTransport session (ALPN h3) is the `webtransport` protocol.
        const protocol = this.connection.alpn === 'h3' ? 'webtransport' : 'quic';
        if (!ticket.allowsProtocol(protocol)) {
          ticket.release?.();
          this.#error(ErrorCode.Forbidden, 0, `access token not allowed on ${protocol} (allow_protocols)`);
          return this.#closeSoon(QuicCloseCode.Unauthorized, ErrorCode.Forbidden);
        }
        this.#ticket = ticket;
        if (!ctx.onAuthenticated(this)) {
          this.#waiting = undefined;
          this.#error(ErrorCode.RateLimited, 0, 'too many connections');
          return this.#closeSoon(QuicCloseCode.TooManyConnections, ErrorCode.RateLimited);
        }
        this.#send(encodeOk({ id: 0, topic: '' }));
        const waiting = this.#waiting ?? [];
        this.#waiting = undefined;
        for (const w of waiting) this.#onFrame(w);
      },
      (err: unknown) => {
        this.#waiting = undefined;
        const code = isFpsError(err) ? err.code : ErrorCode.Internal;
        if (!isFpsError(err)) ctx.logger.error('quic auth failed', { conn: this.id, err });
        this.#error(code, 0, isFpsError(err) ? err.message : 'internal error');
        this.#closeSoon(QuicCloseCode.Unauthorized, code);
      },
    );
  }

  /** ERR first, then the close: give the ERR a moment to leave before CONNECTION_CLOSE. */
  #closeSoon(code: number, reason: string): void {
    this.#closed = true;
    setTimeout(() => this.connection.close(code, reason), 50).unref();
  }

  #checkTicket(): EdgeTicket {
    const t = this.#ticket as EdgeTicket;
    if (t.isExpired(this.#ctx.now())) throw new Refusal(ErrorCode.TokenExpired);
    return t;
  }

  #onSub(f: Frame): void {
    const sub = decodeSub(f);
    validateTenant(sub.tenant);
    validatePattern(sub.pattern);
    const ticket = this.#checkTicket();
    // Contract §10.1 mirrored: the denial names the subscription, and no OK or stream follows.
    if (!ticket.canSubscribe(sub.tenant, sub.pattern)) {
      throw new Refusal(ErrorCode.PermissionDenied, `SUB:${sub.tenant}:${sub.pattern}`);
    }
    const existing = this.#subs.get(sub.id);
    if (existing !== undefined) {
      if (existing.tenant === sub.tenant && existing.pattern === sub.pattern) {
        return this.#send(encodeOk({ id: sub.id, topic: sub.pattern })); // repeated SUB: idempotent
      }
      throw new Refusal('bad_frame', `subscription id ${sub.id} is in use`);
    }
    if (this.#subs.size >= this.#ctx.config.limits.maxSubscriptionsPerConnection) {
      throw new Refusal(ErrorCode.TooManySubscriptions);
    }
    const refusal = subscribeRefusal(this.#ctx.capacity, this.#ctx.dispatcher, sub.tenant, sub.pattern);
    if (refusal !== undefined) throw new Refusal(refusal.code, `SUB:${sub.tenant}:${sub.pattern}`);
    const q = this.#ctx.config.quic;
    const s = new QuicSubscription(
      { metrics: this.#ctx.metrics, batcher: this.#ctx.batcher, queueBytes: q.streamQueueBytes, policy: q.slowConsumerPolicy },
      this,
      { id: sub.id, tenant: sub.tenant, pattern: sub.pattern, datagram: (sub.flags & SubFlags.DATAGRAM) !== 0, latest: (sub.flags & SubFlags.LATEST) !== 0 },
    );
    this.#subs.set(sub.id, s);
    this.#ctx.dispatcher.subscribe(sub.tenant, sub.pattern, s);
    this.#send(encodeOk({ id: sub.id, topic: sub.pattern }));
  }

  #onUnsub(f: Frame): void {
    const u = decodeUnsub(f);
    validateTenant(u.tenant);
    validatePattern(u.pattern);
    const s = this.#subs.get(u.id);
    if (s !== undefined) {
      this.#subs.delete(u.id);
      this.#ctx.dispatcher.removeSink(s);
      s.end();
    }
    this.#send(encodeOk({ id: u.id, topic: u.pattern }));
  }

  #onPub(f: Frame): void {
    const arrivedAtMs = performance.now();
    const ctx = this.#ctx;
    ctx.metrics.quic.messagesIn.inc();
    ctx.metrics.quic.bytesIn.inc(HEADER_SIZE + f.topic.length + f.payload.byteLength);
    this.observed?.published();
    const pub = decodePub(f);
    validateTenant(pub.tenant);
    validateChannel(pub.channel);
    if (pub.data.byteLength > ctx.config.limits.maxPayloadBytes) throw new Refusal(ErrorCode.PayloadTooLarge);
    const ticket = this.#checkTicket();
    if (!ticket.canPublish(pub.tenant, pub.channel)) throw new Refusal(ErrorCode.PermissionDenied);
    if (ctx.admission?.admitPublish(pub.tenant, pub.channel, pub.data.byteLength, ctx.now()) === 'rate_limited') {
      throw new Refusal(ErrorCode.RateLimited);
    }
    if (!ctx.dispatcher.publish({ tenant: pub.tenant, channel: pub.channel, payload: pub.data, mode: pub.mode, arrivedAtMs, origin: 'quic', publisher: ticket.tokenId })) {
      throw new Refusal(ErrorCode.RateLimited);
    }
  }

  #onPresence(f: Frame): void {
    const ctx = this.#ctx;
    if (ctx.presence === undefined) throw new Refusal(ErrorCode.BadRequest, 'presence is not enabled on this relay');
    this.#checkTicket();
    this.#presence ??= new QuicPresence({
      presence: ctx.presence,
      ticket: this.#ticket as EdgeTicket,
      conn: `quic${this.id}`,
      send: (frame) => this.#send(frame),
      now: ctx.now,
      maxMemberships: ctx.config.limits.maxSubscriptionsPerConnection,
      error: (code) => ctx.metrics.error(code),
    });
    this.#presence.handle(f);
  }

  #onDatagram(d: Buffer): void {
    if (this.#closed || this.#ticket === undefined) return;
    // A failing PUB datagram is dropped and counted, never answered (spec §3 step 4).
    try {
      const f = decodeFrame(d);
      if (f.type !== FrameType.PUB) throw new Refusal('bad_frame');
      this.#onPub(f);
    } catch (err) {
      const code = err instanceof Refusal ? err.code : isWireError(err) ? err.code : ErrorCode.Internal;
      this.#ctx.metrics.error(code);
    }
  }

  // SubscriptionOwner

  onReset(sub: QuicSubscription): void {
    if (this.#subs.get(sub.id) !== sub) return;
    this.#subs.delete(sub.id);
    sub.reset(QuicStreamCode.SlowConsumer);
    // Not now: the dispatcher may still be iterating the match result that holds this sink.
    queueMicrotask(() => this.#ctx.dispatcher.removeSink(sub));
    this.#ctx.logger.warn('quic subscription reset: slow consumer', { conn: this.id, id: sub.id });
    this.#error(ErrorCode.SlowConsumer, sub.id, `SUB:${sub.tenant}:${sub.pattern}`);
  }

  onStopped(sub: QuicSubscription): void {
    if (this.#subs.get(sub.id) !== sub) return;
    this.#subs.delete(sub.id);
    sub.reset(QuicStreamCode.Cancelled);
    queueMicrotask(() => this.#ctx.dispatcher.removeSink(sub));
  }
}

function idOf(f: Frame): number {
  // SUB, UNSUB and PRESENCE carry their request id in the first 4 payload bytes.
  if ((f.type === FrameType.SUB || f.type === FrameType.UNSUB || f.type === FrameType.PRESENCE) && f.payload.byteLength >= 4) {
    const p = f.payload;
    return ((p[0] as number) * 0x1000000 + ((p[1] as number) << 16) + ((p[2] as number) << 8) + (p[3] as number)) >>> 0;
  }
  return 0;
}
