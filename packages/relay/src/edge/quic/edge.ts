// The QUIC edge (ALPN fastpubsub/1): one UDP endpoint, one QuicSession per connection, the
// same TicketVerifier, dispatcher, limits and metrics as the WebSocket edge. Closes a revoked
// token's connections and runs the graceful shutdown (ERR `reconnect`, serve during the grace
// period, then close with GoingAway).
import { FlushBatcher, QuicEndpoint, type QuicConnection, type WebTransportSessionInfo } from '@fastpubsub/quic';
import { ErrorCode, type Logger, type RelayConfig } from '@fastpubsub/core';
import type { Dispatcher } from '../../delivery/index.js';
import type { Admission, TenantCapacity } from '../../limits/index.js';
import type { RelayMetrics } from '../../metrics.js';
import type { TicketVerifier } from '../../auth/edge-ticket.js';
import { ALPN, QUIC_RECONNECT_CODE, QuicCloseCode } from '@fastpubsub/wire';
import { QuicSession, type QuicSessionContext } from './session.js';
import type { QuicTlsIdentity } from './tls.js';
import { SessionRegistry } from '../session-registry.js';
import { QuicPreAuth } from './pre-auth.js';
import type { ConnectionObserver } from '../connection-observer.js';
import type { PresenceService } from '../../presence/service.js';
import { H3_ALPN, acceptContractSession, routeWebTransport, type ContractWtSession } from '../webtransport/index.js';

export interface QuicEdgeOptions {
  config: RelayConfig;
  verifier: TicketVerifier;
  dispatcher: Dispatcher;
  metrics: RelayMetrics;
  logger: Logger;
  now: () => number;
  tls: QuicTlsIdentity;
  admission?: Admission;
  /** Per-tenant connection and subscription capacity. */
  capacity?: TenantCapacity;
  /** Presence over PRESENCE frames (docs/presence.md). */
  presence?: PresenceService;
  /** Counts connections cut by the connection limits, by reason. */
  onRefused?: (reason: string) => void;
  /** Connection insights (GeoIP, bot signals); absent: none kept. */
  observer?: ConnectionObserver;
}

export class QuicEdge {
  readonly #opts: QuicEdgeOptions;
  readonly #endpoint: QuicEndpoint;
  readonly #ctx: QuicSessionContext;
  readonly #sessions = new SessionRegistry<QuicSession>();
  readonly #unsubscribeRevoked: () => void;
  readonly #preAuth: QuicPreAuth<QuicSession>;
  readonly #contractSessions = new Set<ContractWtSession>();
  #nextId = 1;
  #accepting = true;

  constructor(opts: QuicEdgeOptions) {
    this.#opts = opts;
    const q = opts.config.quic;
    this.#endpoint = new QuicEndpoint({
      host: q.listen.host,
      port: q.listen.port,
      // ALPN h3: WebTransport on the same socket (../webtransport/router.ts).
      server: { certPem: opts.tls.certPem, keyPem: opts.tls.keyPem, alpn: [ALPN, H3_ALPN], ...opts.tls.webTransport },
      transport: {
        streamReceiveWindow: q.streamReceiveWindowBytes,
        receiveWindow: q.connectionReceiveWindowBytes,
        sendHighWaterMark: q.streamSendBufferBytes,
        idleTimeoutMs: q.idleTimeoutMs,
        // The client opens one control stream and no unidirectional stream (over WebTransport:
        // also the CONNECT stream, and HTTP/3's control and QPACK unidirectional streams).
        maxConcurrentBidiStreams: 4,
        maxConcurrentUniStreams: 4,
        // Loss recovery (docs/quic-edge.md "Loss recovery"): the relay is the sender that decides
        // delivery latency. Window floor: see QUIC_DEFAULTS (RFC 9002 §7.2).
        congestion: q.congestion,
        minCongestionWindow: q.minCongestionWindowBytes,
        // ACK-frequency extension: ask each client to ACK every ack-eliciting packet (threshold 0)
        // and any gap at once (reordering 1, as RFC 9000 §13.2.1), within ackMaxDelayMs, so loss is
        // detected by ACKs (RFC 9002 §6.1) and the PTO (§6.2.1) carries 1 ms, not 25 ms, of ACK delay.
        ...(q.ackMaxDelayMs > 0
          ? { ackFrequency: true, ackMaxDelayMs: q.ackMaxDelayMs, ackElicitingThreshold: 0, ackReorderingThreshold: 1 }
          : {}),
      },
      closeTimeoutMs: 1000,
    });
    this.#ctx = {
      dispatcher: opts.dispatcher,
      metrics: opts.metrics,
      config: opts.config,
      verifier: opts.verifier,
      batcher: new FlushBatcher(),
      logger: opts.logger,
      now: opts.now,
      admission: opts.admission,
      capacity: opts.capacity,
      presence: opts.presence,
      onAuthenticated: (s) => this.#onAuthenticated(s),
    };
    this.#preAuth = new QuicPreAuth(opts.config.limits.maxPreAuthConnections, opts.config.limits.maxConnectionsPerIp);
    this.#endpoint.on('connection', (c) => this.#onConnection(c));
    this.#endpoint.on('handshakeError', (f) => opts.logger.debug('quic handshake failed', { ...f }));
    this.#unsubscribeRevoked = opts.verifier.onRevoked((tokenId) => this.#onRevoked(tokenId));
  }

  /** Serves new WebTransport (ALPN h3) handshakes with this certificate (dev-certificate rotation). */
  setWebTransportCertificate(certPem: string, keyPem: string): void {
    this.#endpoint.setServerCertificate(certPem, keyPem, { h3: true });
  }

  get port(): number {
    return this.#endpoint.address.port;
  }

  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** Authenticated sessions: pre-auth ones never count against `maxConnections`. */
  get #authenticatedCount(): number {
    return this.#sessions.size - this.#preAuth.pendingCount;
  }

  #onConnection(c: QuicConnection): void {
    if (!this.#accepting) return c.close(QuicCloseCode.GoingAway, ErrorCode.ShuttingDown);
    if (c.alpn === H3_ALPN) {
      const routes = {
        native: () => this.#onSession(c),
        contract: (_c: QuicConnection, info: WebTransportSessionInfo) => void this.#onContractSession(c, info.headers),
        refused: (reason: string) => this.#refuseWebTransport(reason),
      };
      return routeWebTransport(c, routes, this.#opts.config.quic.authTimeoutMs);
    }
    this.#onSession(c);
  }

  /** The contract's WebTransport (../webtransport/contract-session.ts), revocable like the rest. */
  async #onContractSession(c: QuicConnection, headers: Readonly<Record<string, string>>): Promise<void> {
    const o = this.#opts;
    const ctx = { dispatcher: o.dispatcher, metrics: o.metrics, logger: o.logger, now: o.now, maxPayloadBytes: o.config.limits.maxPayloadBytes, maxSubscriptions: o.config.limits.maxSubscriptionsPerConnection };
    const session = await acceptContractSession(c, headers, o.verifier, o.config.region, ctx);
    if (session === undefined) return;
    this.#contractSessions.add(session);
    c.on('close', () => this.#contractSessions.delete(session));
  }

  #refuseWebTransport(reason: string): void {
    this.#opts.metrics.error(ErrorCode.BadRequest);
    this.#opts.onRefused?.(reason);
  }

  #onSession(c: QuicConnection): void {
    if (!this.#accepting) return c.close(QuicCloseCode.GoingAway, ErrorCode.ShuttingDown);
    const ip = c.remoteAddress.host;
    const session = new QuicSession(this.#ctx, this.#nextId++, c);
    const admitted = this.#preAuth.admit(session, ip);
    if (admitted.refused !== undefined) {
      session.dispose();
      this.#refuse(admitted.refused);
      return c.close(QuicCloseCode.TooManyConnections, ErrorCode.RateLimited);
    }
    if (admitted.evict !== undefined) {
      this.#refuse('pre_auth_evicted');
      admitted.evict.close(QuicCloseCode.AuthTimeout, ErrorCode.Unauthorized);
    }
    this.#sessions.add(session);
    c.on('close', () => {
      session.dispose();
      this.#preAuth.closed(session, ip);
      session.observed?.closed();
      this.#sessions.delete(session, session.ticket?.tokenId);
    });
  }

  #refuse(reason: string): void {
    this.#opts.metrics.error(ErrorCode.RateLimited);
    this.#opts.onRefused?.(reason);
  }

  /** AUTH succeeded: the session moves to authenticated capacity, if there is room. */
  #onAuthenticated(s: QuicSession): boolean {
    const tokenId = s.ticket?.tokenId;
    if (tokenId === undefined) return false;
    if (this.#authenticatedCount >= this.#opts.config.limits.maxConnections) {
      this.#refuse('max_connections');
      return false;
    }
    const capacity = this.#opts.capacity;
    if (capacity !== undefined) {
      const release = capacity.openConnection(s.ticket?.tenants ?? []);
      if (release === undefined) {
        this.#refuse('tenant_connections');
        return false;
      }
      void s.connection.closed.then(release, release);
    }
    this.#preAuth.authenticated(s);
    this.#sessions.indexToken(s, tokenId);
    s.observed = this.#opts.observer?.opened({ edge: 'quic', ip: s.connection.remoteAddress.host, tenants: s.ticket?.tenants ?? [], tokenId });
    // A shutdown that began while this AUTH was being verified must not miss the session.
    if (!this.#accepting) s.notify(QUIC_RECONNECT_CODE, 'relay is shutting down');
    return true;
  }

  #onRevoked(tokenId: string): void {
    for (const s of this.#contractSessions) if (s.ticket.tokenId === tokenId) s.close(QuicCloseCode.TokenRevoked, ErrorCode.TokenRevoked);
    const closed = this.#sessions.closeToken(tokenId, (s) => s.close(QuicCloseCode.TokenRevoked, ErrorCode.TokenRevoked));
    if (closed > 0) this.#opts.logger.info('closed quic connections of a revoked token', { tokenId, connections: closed });
  }

  /**
   * Graceful stop, bounded by `drainMs + closeMs`: refuse new connections, ask every client
   * to reconnect elsewhere (ERR `reconnect`), serve until they leave or `drainMs` passes, then
   * close the rest with GoingAway and release the endpoint.
   */
  async shutdown(drainMs: number, closeMs: number): Promise<void> {
    this.#accepting = false;
    this.#unsubscribeRevoked();
    for (const s of this.#contractSessions) s.reconnect();
    await this.#sessions.drain(drainMs, closeMs, {
      askToLeave: (s) => s.notify(QUIC_RECONNECT_CODE, 'relay is shutting down'),
      close: (s) => s.close(QuicCloseCode.GoingAway, ErrorCode.ShuttingDown),
    });
    await this.#endpoint.close(QuicCloseCode.GoingAway, ErrorCode.ShuttingDown);
  }
}
