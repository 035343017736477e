// The contract v0.1 WebSocket edge: admits upgrades (auth before the 101), owns the open
// sessions, closes a revoked token's connections and runs the graceful shutdown
// (RECONNECT, serve during the grace period, then 1001).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, httpStatusFor, isFpsError, type Logger, type RelayConfig } from '@fastpubsub/core';
import { RECONNECT } from '@fastpubsub/wire';
import type { Dispatcher } from '../../delivery/index.js';
import type { RelayMetrics } from '../../metrics.js';
import type { Admission, TenantCapacity } from '../../limits/index.js';
import type { EdgeTicket, TicketVerifier } from '../../auth/edge-ticket.js';
import { SUBPROTOCOL, extractToken, isWebSocketPath, offeredProtocols, rejectUpgrade } from './handshake.js';
import { CorkBatcher } from './outbound.js';
import { CloseCode, WsSession, type SessionContext } from './session.js';
import type { InterestReady } from './mesh-ready.js';
import { SessionRegistry } from '../session-registry.js';
import { GuardedWebSocket, MAX_WS_MESSAGE_BYTES, guardTickMs } from './guard.js';
import type { PresenceService } from '../../presence/service.js';
import type { ConnectionObserver } from '../connection-observer.js';

export interface WsEdgeOptions {
  config: RelayConfig;
  verifier: TicketVerifier;
  dispatcher: Dispatcher;
  metrics: RelayMetrics;
  logger: Logger;
  now: () => number;
  /** Rate limits and usage metering (with a control plane); absent: unlimited. */
  admission?: Admission;
  /** With a mesh: when every PoP routes this relay's current interest here (MESHREADY). */
  interestReady?: InterestReady;
  /** Per-tenant connection and subscription capacity. */
  capacity?: TenantCapacity;
  /** Presence, for the PRESENCE: text extension. */
  presence?: PresenceService;
  /** Connection insights (GeoIP, User-Agent, bot signals); absent: none kept. */
  observer?: ConnectionObserver;
}

/** A guard slice's length: the per-connection guard work is spread over the period in steps this long. */
const GUARD_SLICE_MS = 50;

export class WsEdge {
  readonly #opts: WsEdgeOptions;
  readonly #ctx: SessionContext;
  readonly #wss: WebSocketServer;
  readonly #sessions = new SessionRegistry<WsSession>();
  readonly #unsubscribeRevoked: () => void;
  readonly #guardTimer: NodeJS.Timeout;
  /** The guard period is walked in this many slices (see #tickGuards). */
  readonly #guardSlices: number;
  /** Where the next slice of the guard walk starts; undefined: at the beginning. */
  #guardCursor: Iterator<WsSession> | undefined;
  #admitting = 0;
  #nextId = 1;
  #accepting = true;

  constructor(opts: WsEdgeOptions) {
    this.#opts = opts;
    this.#ctx = {
      dispatcher: opts.dispatcher,
      metrics: opts.metrics,
      limits: opts.config.limits,
      batcher: new CorkBatcher(),
      logger: opts.logger,
      now: opts.now,
      admission: opts.admission,
      interestReady: opts.interestReady,
      capacity: opts.capacity,
      presence: opts.presence,
    };
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      // The largest valid publish: a payload over the configured limit but within the contract's
      // gets ERR:payload_too_large and the connection stays; beyond it, ERR then close 1009.
      maxPayload: MAX_WS_MESSAGE_BYTES,
      WebSocket: GuardedWebSocket,
      // Answer with llps.v1 only: echoing the `at.` entry would leak the token (contract §2).
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.#unsubscribeRevoked = opts.verifier.onRevoked((tokenId) => this.#onRevoked(tokenId));
    // One timer for every connection's unfinished-message and keepalive bounds, firing once per
    // slice of the guard period.
    const period = guardTickMs(opts.config.limits);
    this.#guardSlices = Math.max(1, Math.round(period / GUARD_SLICE_MS));
    this.#guardTimer = setInterval(() => this.#tickGuards(), period / this.#guardSlices);
    this.#guardTimer.unref();
  }

  /**
   * One slice of the guard walk: 1/#guardSlices of the sessions, so each is still visited once per
   * guard period, but no timer callback walks (and pings) every connection at once — with many
   * idle connections that one walk stalled every delivery behind it for tens of milliseconds.
   */
  #tickGuards(): void {
    const now = Date.now();
    for (let budget = Math.ceil(this.#sessions.size / this.#guardSlices); budget > 0; budget--) {
      this.#guardCursor ??= this.#sessions[Symbol.iterator]();
      const next = this.#guardCursor.next();
      if (next.done === true) {
        this.#guardCursor = undefined;
        return;
      }
      const s = next.value;
      const verdict = s.guard.tick(now);
      if (verdict === 'ok') continue;
      this.#opts.metrics.error(verdict);
      this.#opts.logger.debug('websocket cut', { conn: s.id, reason: verdict });
      s.guard.enforce(verdict);
    }
  }

  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** The HTTP server's 'upgrade' handler. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy()); // a client vanishing mid-handshake is not our error
    this.#admit(req, socket, head).catch((err: unknown) => {
      this.#opts.logger.error('upgrade failed', { err });
      this.#reject(socket, ErrorCode.Internal, 'internal error');
    });
  }

  async #admit(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { config, verifier } = this.#opts;
    if (!isWebSocketPath(req.url)) return this.#reject(socket, ErrorCode.NotFound, 'WebSocket endpoints are /ws and /');
    if (!this.#accepting) return this.#reject(socket, ErrorCode.ShuttingDown, 'relay is shutting down');
    if (this.#sessions.size + this.#admitting >= config.limits.maxConnections) {
      return this.#reject(socket, ErrorCode.RateLimited, 'too many connections');
    }
    const origin = req.headers.origin;
    let ticket: EdgeTicket;
    this.#admitting++;
    try {
      ticket = await verifier.verify(extractToken(req), {
        ip: req.socket.remoteAddress ?? '',
        region: config.region,
        ...(origin === undefined ? {} : { origin }),
      });
    } catch (err) {
      if (!isFpsError(err)) throw err;
      // The failed-authentication throttle says how long to wait (limits/auth-failures.ts).
      const retryAfter = err.code === ErrorCode.RateLimited && /^\d+$/.test(err.detail ?? '') ? Number(err.detail) : undefined;
      return this.#reject(socket, err.code, err.message, retryAfter);
    } finally {
      this.#admitting--;
    }
    // Contract §11.7: a token whose allow_protocols leaves out websocket gets 403.
    if (!ticket.allowsProtocol('websocket')) {
      ticket.release?.();
      return this.#reject(socket, ErrorCode.Forbidden, 'access token not allowed on websocket (allow_protocols)');
    }
    // Checked after the token, so a request without any credentials always gets 401.
    if (!offeredProtocols(req).includes(SUBPROTOCOL)) {
      ticket.release?.();
      return this.#reject(socket, ErrorCode.BadRequest, `Sec-WebSocket-Protocol must offer ${SUBPROTOCOL}`);
    }
    if (!this.#accepting) {
      ticket.release?.();
      return this.#reject(socket, ErrorCode.ShuttingDown, 'relay is shutting down');
    }
    if (socket.destroyed) return ticket.release?.();
    const capacity = this.#opts.capacity;
    const releaseCapacity = capacity === undefined ? (): void => undefined : capacity.openConnection(ticket.tenants ?? []);
    if (releaseCapacity === undefined) {
      ticket.release?.();
      return this.#reject(socket, ErrorCode.RateLimited, 'tenant connection limit reached');
    }
    // Released however the socket ends, also if the upgrade never completes (idempotent).
    socket.once('close', releaseCapacity);
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#open(ws, req, socket, ticket, releaseCapacity));
  }

  #reject(socket: Duplex, code: ErrorCode, message: string, retryAfterSeconds?: number): void {
    this.#opts.metrics.error(code);
    rejectUpgrade(socket, httpStatusFor(code), code, message, retryAfterSeconds);
  }

  #open(ws: WebSocket, req: IncomingMessage, socket: Duplex, ticket: EdgeTicket, releaseCapacity: () => void): void {
    const session = new WsSession(this.#ctx, this.#nextId++, ws, socket, ticket);
    session.observed = this.#opts.observer?.opened({
      edge: 'ws',
      ip: req.socket.remoteAddress ?? '',
      userAgent: req.headers['user-agent'],
      tenants: ticket.tenants ?? [],
      tokenId: ticket.tokenId,
    });
    this.#sessions.add(session);
    this.#sessions.indexToken(session, ticket.tokenId);
    ws.on('error', (err) => this.#opts.logger.debug('websocket error', { conn: session.id, err }));
    ws.on('close', () => {
      session.dispose();
      session.observed?.closed();
      ticket.release?.();
      releaseCapacity();
      this.#sessions.delete(session, ticket.tokenId);
    });
    // A close() that began while this handshake was completing must not miss this session.
    if (!this.#accepting) session.sendText(RECONNECT);
  }

  #onRevoked(tokenId: string): void {
    const closed = this.#sessions.closeToken(tokenId, (s) => s.close(CloseCode.PolicyViolation, ErrorCode.TokenRevoked));
    if (closed > 0) this.#opts.logger.info('closed connections of a revoked token', { tokenId, connections: closed });
  }

  /**
   * Graceful stop, bounded by `drainMs + closeMs` (plus one tick for terminated sockets): stop
   * admitting, ask every client to RECONNECT elsewhere and keep serving until they leave or
   * `drainMs` passes, then close with 1001 and, after `closeMs`, cut off whoever is left.
   */
  async shutdown(drainMs: number, closeMs: number): Promise<void> {
    this.#accepting = false;
    this.#unsubscribeRevoked();
    clearInterval(this.#guardTimer);
    await this.#sessions.drain(drainMs, closeMs, {
      askToLeave: (s) => s.sendText(RECONNECT),
      close: (s) => s.close(CloseCode.GoingAway, ErrorCode.ShuttingDown),
    });
    for (const s of this.#sessions) s.terminate();
    await this.#sessions.waitEmpty(1000);
    this.#wss.close();
  }
}
