// One accepted contract-v0.1 WebSocket connection: its ticket, its writer and the handling of
// its frames. Frames are handled synchronously, one at a time, in arrival order (contract §4
// "Order": the SDK publishes right after SUB without waiting for OK). Bad input is answered
// with ERR and never closes the connection (contract §10.3).
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import { ErrorCode, type Logger, type RelayConfig } from '@fastpubsub/core';
import {
  PONG,
  decodePublish,
  formatErr,
  formatOk,
  isWireError,
  parseClientText,
  parseMeshReady,
  validatePattern,
  validateTenant,
  type ClientText,
} from '@fastpubsub/wire';
import type { DispatchMessage, Dispatcher, Encodings, Sink } from '../../delivery/index.js';
import type { RelayMetrics } from '../../metrics.js';
import { ByteRateLimiter, NoticeGate, subscribeRefusal, type Admission, type TenantCapacity } from '../../limits/index.js';
import type { EdgeTicket } from '../../auth/edge-ticket.js';
import { frameText } from './frame.js';
import { CONTROL_FRAME, Outbound, type CorkBatcher } from './outbound.js';
import { wsDeliveryFrame } from './publish.js';
import { refuseSubscription } from './sub-refusal.js';
import { answerMeshReady, type InterestReady } from './mesh-ready.js';
import { ConnectionGuard } from './guard.js';
import { LatestPatterns } from './latest.js';
import { WsPresence } from './presence.js';
import type { PresenceService } from '../../presence/service.js';
import type { ObservedConnection } from '../connection-observer.js';

/** Close codes this edge sends (RFC 6455 §7.4, 4000–4999 private use). */
export const CloseCode = {
  GoingAway: 1001,
  PolicyViolation: 1008,
  SlowConsumer: 4008,
} as const;

// A client that never reads would never see our close frame; cut it off after this long.
const CLOSE_TIMEOUT_MS = 5000;
// Contract §11.7: publishes over the token's ingress rate get at most one ERR per second.
const RATE_NOTICE_INTERVAL_MS = 1000;

export interface SessionContext {
  readonly dispatcher: Dispatcher;
  readonly metrics: RelayMetrics;
  readonly limits: RelayConfig['limits'];
  readonly batcher: CorkBatcher;
  readonly logger: Logger;
  /** Wall clock (ms since epoch) for token expiry. */
  readonly now: () => number;
  readonly admission?: Admission | undefined;
  /** With a mesh: resolves once every PoP routes this relay's current interest here (MESHREADY). */
  readonly interestReady?: InterestReady | undefined;
  readonly capacity?: TenantCapacity | undefined;
  /** Presence (the PRESENCE: text extension); absent: such commands get ERR:bad_command. */
  readonly presence?: PresenceService | undefined;
}

export class WsSession implements Sink {
  readonly id: number;
  readonly edge = 'ws' as const;
  readonly ticket: EdgeTicket;
  readonly #ctx: SessionContext;
  readonly #ws: WebSocket;
  readonly #out: Outbound;
  /** Which of its subscriptions asked for latest mode (SUB …:L). */
  readonly #latest = new LatestPatterns();
  /** The token's per-connection rates (contract §11.7); over them frames are dropped, never queued. */
  readonly #ingress: ByteRateLimiter;
  readonly #egress: ByteRateLimiter;
  readonly #rateNotice = new NoticeGate(RATE_NOTICE_INTERVAL_MS);
  /** Unfinished-message and keepalive bounds, ticked by the edge. */
  readonly guard: ConnectionGuard;
  /** Connection insights' record of this connection (bot signals), set by the edge. */
  observed: ObservedConnection | undefined;
  #closing = false;
  #closeTimer: NodeJS.Timeout | undefined;
  #presence: WsPresence | undefined;

  constructor(ctx: SessionContext, id: number, ws: WebSocket, socket: Duplex, ticket: EdgeTicket) {
    this.#ctx = ctx;
    this.id = id;
    this.#ws = ws;
    this.ticket = ticket;
    const startMs = performance.now();
    this.#ingress = new ByteRateLimiter(ticket.ingressBytesPerSec, startMs);
    this.#egress = new ByteRateLimiter(ticket.egressBytesPerSec, startMs);
    const m = ctx.metrics;
    this.#out = new Outbound(
      socket,
      {
        queueBytes: ctx.limits.outboundQueueBytes,
        policy: ctx.limits.slowConsumerPolicy,
        highWaterMarkBytes: ctx.limits.socketHighWaterMarkBytes,
      },
      ctx.batcher,
      {
        onFlushed(bytes, enqueuedAtMs) {
          if (enqueuedAtMs === CONTROL_FRAME) return;
          m.ws.messagesOut.inc();
          m.ws.bytesOut.inc(bytes);
          m.observePublishToWrite((performance.now() - enqueuedAtMs) / 1000);
        },
        onDropped(count) {
          m.dropped('slow_consumer', count);
        },
      },
    );
    this.guard = new ConnectionGuard(ws, socket, ctx.limits, Date.now());
    ws.on('message', (data, isBinary) => {
      this.guard.heard(Date.now());
      this.#onMessage(data as Buffer, isBinary);
    });
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** A WebSocket connection is its own deliver-one unit. */
  get connection(): object {
    return this;
  }

  /**
   * Hands one delivery to this connection: one frame listing every matching pattern (contract
   * §6). Returns the bytes that reached the socket now; queued, dropped or discarded frames are
   * accounted here.
   */
  deliver(msg: DispatchMessage, patterns: readonly string[], encodings: Encodings): number {
    if (this.#closing) return 0;
    // The contract lists every matching pattern; the list is capped (maxDeliveryPatterns, the first
    // ones the matcher found) so a frame cannot grow with adversarial pattern counts.
    const max = this.#ctx.limits.maxDeliveryPatterns;
    const frame = wsDeliveryFrame(encodings, patterns.length > max ? patterns.slice(0, max) : patterns);
    if (!this.#egress.admit(frame.byteLength, performance.now())) {
      this.#ctx.metrics.dropped('rate_limited');
      return 0;
    }
    const key = this.#latest.keyOf(msg, patterns);
    if (this.#latest.hasUnreported && this.#out.queuedBytes === 0) for (const line of this.#latest.takeNotices()) this.sendText(line);
    const r = this.#out.send(frame, msg.arrivedAtMs, key);
    if (r === 'written') return frame.byteLength;
    if (r === 'superseded') {
      this.#ctx.metrics.dropped('superseded');
      this.#latest.superseded(msg.tenant, patterns);
    }
    if (r === 'overflow') {
      this.#ctx.metrics.dropped('slow_consumer');
      this.#ctx.metrics.slowConsumerDisconnects.inc();
      this.#ctx.logger.warn('slow consumer disconnected', { conn: this.id, tokenId: this.ticket.tokenId });
      this.close(CloseCode.SlowConsumer, ErrorCode.SlowConsumer);
    }
    return 0;
  }

  sendText(text: string): void {
    if (this.#closing) return;
    const r = this.#out.send(frameText(text), CONTROL_FRAME);
    if (r === 'overflow') this.close(CloseCode.SlowConsumer, ErrorCode.SlowConsumer);
  }

  /**
   * Stops deliveries at once and starts the close handshake. Subscriptions go on the next
   * microtask, not here: a fan-out loop may still be iterating the index's match result.
   */
  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#out.close();
    this.#presence?.dispose();
    queueMicrotask(() => this.#ctx.dispatcher.removeSink(this));
    this.#ws.close(code, reason);
    this.#closeTimer = setTimeout(() => this.#ws.terminate(), CLOSE_TIMEOUT_MS);
    this.#closeTimer.unref();
  }

  /** Called once the WebSocket has closed, however that happened. */
  dispose(): void {
    this.#closing = true;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.#out.close();
    this.#presence?.dispose();
    this.#ctx.dispatcher.removeSink(this);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#closing) return;
    try {
      if (isBinary) this.#onPublish(data);
      else this.#onText(data.toString('utf8'));
    } catch (err) {
      // A bug must cost one ERR reply, not the process and every other connection with it.
      this.#ctx.logger.error('frame handling failed', { conn: this.id, err });
      this.#error(ErrorCode.Internal);
    }
  }

  #error(code: string, detail?: string): void {
    this.#ctx.metrics.error(code);
    this.sendText(formatErr(code, detail));
  }

  #onPublish(data: Buffer): void {
    const arrivedAtMs = performance.now();
    const ctx = this.#ctx;
    ctx.metrics.ws.messagesIn.inc();
    ctx.metrics.ws.bytesIn.inc(data.byteLength);
    this.observed?.published();
    if (!this.#ingress.admit(data.byteLength, arrivedAtMs)) {
      ctx.metrics.dropped('rate_limited');
      if (this.#rateNotice.open(arrivedAtMs)) this.#error(ErrorCode.RateLimited, 'ingress_kb_per_sec');
      return;
    }
    let pub;
    try {
      pub = decodePublish(data);
    } catch (err) {
      if (isWireError(err)) return this.#error(err.code);
      throw err;
    }
    if (pub.payload.byteLength > ctx.limits.maxPayloadBytes) return this.#error(ErrorCode.PayloadTooLarge);
    if (this.ticket.isExpired(ctx.now())) return this.#error(ErrorCode.TokenExpired);
    if (!this.ticket.canPublish(pub.tenant, pub.channel)) return this.#error(ErrorCode.PermissionDenied);
    if (ctx.admission?.admitPublish(pub.tenant, pub.channel, pub.payload.byteLength, ctx.now()) === 'rate_limited') {
      return this.#error(ErrorCode.RateLimited);
    }
    if (!ctx.dispatcher.publish({ tenant: pub.tenant, channel: pub.channel, payload: pub.payload, mode: pub.mode, arrivedAtMs, origin: 'ws', publisher: this.ticket.tokenId })) {
      this.#error(ErrorCode.RateLimited);
    }
  }

  #onText(text: string): void {
    const meshReady = parseMeshReady(text);
    if (meshReady !== undefined) return answerMeshReady(this, meshReady, this.#ctx.interestReady);
    if (text.startsWith('PRESENCE:') && this.#ctx.presence !== undefined) return this.#presenceCommand(text, this.#ctx.presence);
    let cmd: ClientText;
    try {
      cmd = parseClientText(text);
    } catch (err) {
      if (isWireError(err)) return this.#error(err.code);
      throw err;
    }
    switch (cmd.kind) {
      case 'PING':
        return this.sendText(PONG);
      case 'SUB':
        return this.#onSub(cmd.tenant, cmd.pattern, cmd.latest === true);
      case 'UNSUB':
        return this.#unsubscribe(cmd.tenant, cmd.pattern);
      default: {
        const never: never = cmd;
        throw new Error(`unhandled command ${JSON.stringify(never)}`);
      }
    }
  }

  #presenceCommand(text: string, presence: PresenceService): void {
    const ctx = this.#ctx;
    this.#presence ??= new WsPresence({
      presence,
      ticket: this.ticket,
      conn: `ws${this.id}`,
      send: (t) => this.sendText(t),
      now: ctx.now,
      maxMemberships: ctx.limits.maxSubscriptionsPerConnection,
      error: (code) => ctx.metrics.error(code),
    });
    this.#presence.handle(text);
  }

  /** Returns the error code of an invalid tenant or pattern, or undefined if both are valid. */
  #invalidName(tenant: string, pattern: string): string | undefined {
    try {
      validateTenant(tenant);
      validatePattern(pattern);
      return undefined;
    } catch (err) {
      if (isWireError(err)) return err.code;
      throw err;
    }
  }

  /** Every SUB gets an OK:SUB (contract §11.8); a refused one gets its ERR first and registers nothing. */
  #onSub(tenant: string, pattern: string, latest: boolean): void {
    let refusal: string | undefined;
    try {
      refusal = this.#subscribe(tenant, pattern, latest);
    } catch (err) {
      this.#ctx.logger.error('SUB handling failed', { conn: this.id, err });
      refusal = ErrorCode.Internal;
    }
    if (refusal === undefined) return;
    this.#ctx.metrics.error(refusal);
    refuseSubscription(this, refusal, tenant, pattern);
  }

  /** Registers the subscription and confirms it; returns the refusal's error code instead. */
  #subscribe(tenant: string, pattern: string, latest: boolean): string | undefined {
    const ctx = this.#ctx;
    const invalid = this.#invalidName(tenant, pattern);
    if (invalid !== undefined) return invalid;
    if (this.ticket.isExpired(ctx.now())) return ErrorCode.TokenExpired;
    if (!this.ticket.canSubscribe(tenant, pattern)) return ErrorCode.PermissionDenied;
    if (
      !ctx.dispatcher.has(tenant, pattern, this) &&
      ctx.dispatcher.countFor(this) >= ctx.limits.maxSubscriptionsPerConnection
    ) {
      return ErrorCode.TooManySubscriptions;
    }
    if (!ctx.dispatcher.has(tenant, pattern, this)) {
      const refusal = subscribeRefusal(ctx.capacity, ctx.dispatcher, tenant, pattern);
      if (refusal !== undefined) {
        ctx.logger.debug('SUB refused by tenant capacity', { conn: this.id, tenant, detail: refusal.detail });
        return refusal.code;
      }
    }
    ctx.dispatcher.subscribe(tenant, pattern, this);
    this.#latest.set(tenant, pattern, latest); // a repeated SUB with or without :L switches the mode
    this.sendText(formatOk('SUB', tenant, pattern));
    return undefined;
  }

  #unsubscribe(tenant: string, pattern: string): void {
    const invalid = this.#invalidName(tenant, pattern);
    if (invalid !== undefined) return this.#error(invalid);
    this.#ctx.dispatcher.unsubscribe(tenant, pattern, this);
    this.#latest.set(tenant, pattern, false);
    this.sendText(formatOk('UNSUB', tenant, pattern));
  }
}
