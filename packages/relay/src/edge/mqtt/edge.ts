// The MQTT listener of a PoP (docs/mqtt.md): a TCP server speaking MQTT 3.1.1 and 5.0 whose
// sessions are sinks of the relay's one dispatcher, so MQTT, WebSocket and QUIC clients share
// channels on every PoP. Owns the session table (persistent sessions kept offline, bounded and
// expiring), the shared-subscription groups and the retained store.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger, MqttEdgeConfig, RelayConfig } from '@fastpubsub/core';
import type { Registry } from 'prom-client';
import type { Dispatcher } from '../../delivery/index.js';
import type { Admission } from '../../limits/index.js';
import type { TicketVerifier } from '../../auth/edge-ticket.js';
import { Reason } from './codes.js';
import { MqttConnection } from './connection.js';
import type { MqttContext } from './context.js';
import { MqttMetrics } from './metrics.js';
import { RetainedStore } from './retained.js';
import { MqttSession, type Qos } from './session.js';
import { SharedGroup } from './shared.js';

export interface MqttEdgeOptions {
  config: MqttEdgeConfig;
  relayConfig: RelayConfig;
  verifier: TicketVerifier;
  dispatcher: Dispatcher;
  registry: Registry;
  logger: Logger;
  now: () => number;
  admission?: Admission;
}

const SWEEP_INTERVAL_MS = 1000;

export class MqttEdge implements MqttContext {
  readonly config: MqttEdgeConfig;
  readonly limits: RelayConfig['limits'];
  readonly region: string;
  readonly dispatcher: Dispatcher;
  readonly verifier: TicketVerifier;
  readonly admission: Admission | undefined;
  readonly metrics: MqttMetrics;
  readonly retained: RetainedStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly #server: Server;
  readonly #connections = new Set<MqttConnection>();
  /** tenant\0clientId → session, online or offline. */
  readonly #sessions = new Map<string, MqttSession>();
  /** session key → the connection holding it (absent: offline). */
  readonly #owners = new Map<string, { takenOver(): void }>();
  readonly #groups = new Map<string, SharedGroup>();
  readonly #sweep: NodeJS.Timeout;
  readonly #unsubscribeRevoked: () => void;
  #offline = 0;
  #accepting = true;

  private constructor(opts: MqttEdgeOptions, server: Server) {
    this.config = opts.config;
    this.limits = opts.relayConfig.limits;
    this.region = opts.relayConfig.region;
    this.dispatcher = opts.dispatcher;
    this.verifier = opts.verifier;
    this.admission = opts.admission;
    this.logger = opts.logger;
    this.now = opts.now;
    this.retained = new RetainedStore(opts.config.maxRetained, opts.config.maxRetainedBytes);
    this.metrics = new MqttMetrics(opts.registry, {
      connections: () => this.#connections.size,
      offlineSessions: () => this.#offline,
      retained: () => this.retained.count,
      retainedBytes: () => this.retained.bytes,
    });
    this.#server = server;
    server.on('connection', (socket) => this.#accept(socket));
    this.#sweep = setInterval(() => this.#expireSessions(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
    this.#unsubscribeRevoked = opts.verifier.onRevoked((tokenId) => {
      for (const c of this.#connections) if (c.ticket?.tokenId === tokenId) c.disconnect(Reason.NotAuthorized);
    });
  }

  static async start(opts: MqttEdgeOptions): Promise<MqttEdge> {
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.config.listen.port, opts.config.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MqttEdge(opts, server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  #accept(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    if (!this.#accepting || this.#connections.size >= this.limits.maxConnections) {
      this.metrics.error('too_many_connections');
      socket.destroy();
      return;
    }
    const conn = new MqttConnection(this, socket);
    this.#connections.add(conn);
    socket.on('close', () => {
      this.#connections.delete(conn);
      conn.dispose();
    });
  }

  openSession(tenant: string, clientId: string, cleanStart: boolean, persistent: boolean, owner: { takenOver(): void }): { session: MqttSession; present: boolean } {
    const key = `${tenant}\0${clientId}`;
    const previousOwner = this.#owners.get(key);
    this.#owners.set(key, owner);
    previousOwner?.takenOver();
    let session = this.#sessions.get(key);
    if (session !== undefined && previousOwner === undefined) this.#offline--;
    if (session !== undefined && cleanStart) {
      this.#discard(session);
      session = undefined;
    }
    if (session !== undefined) {
      session.persistent = persistent;
      session.expiresAtMs = Number.POSITIVE_INFINITY;
      return { session, present: true };
    }
    session = new MqttSession(key, tenant, clientId, persistent, { maxInflight: this.config.maxInflight, maxQueuedMessages: this.config.maxQueuedMessages }, this.metrics);
    this.#sessions.set(key, session);
    return { session, present: false };
  }

  closeSession(session: MqttSession, owner: object, expiryMs: number): void {
    if (this.#owners.get(session.key) !== owner) {
      // Taken over: the new connection holds it now.
      session.detach(owner as MqttConnection);
      return;
    }
    this.#owners.delete(session.key);
    session.detach(owner as MqttConnection);
    if (expiryMs <= 0 || !session.persistent) {
      this.#discard(session);
      return;
    }
    if (this.#offline >= this.config.maxOfflineSessions) {
      this.#discard(session);
      return;
    }
    session.expiresAtMs = this.now() + expiryMs;
    this.#offline++;
  }

  #discard(session: MqttSession): void {
    for (const filter of [...session.subscriptions.keys()]) this.unsubscribe(session, filter);
    this.#sessions.delete(session.key);
  }

  #expireSessions(): void {
    const now = this.now();
    for (const session of this.#sessions.values()) {
      if (!this.#owners.has(session.key) && session.expiresAtMs <= now) {
        this.#offline--;
        this.#discard(session);
      }
    }
  }

  subscribe(session: MqttSession, filter: string, pattern: string, qos: Qos, shareGroup: string | undefined): void {
    const sharedKey = shareGroup === undefined ? undefined : `${session.tenant}\0${shareGroup}\0${pattern}`;
    const old = session.addSubscription(filter, { pattern, qos, ...(sharedKey === undefined ? {} : { sharedKey }) });
    if (old !== undefined) this.#release(session, old.pattern, old.sharedKey);
    if (sharedKey === undefined) {
      this.dispatcher.subscribe(session.tenant, pattern, session);
      return;
    }
    let group = this.#groups.get(sharedKey);
    if (group === undefined) {
      group = new SharedGroup(sharedKey, session.tenant, pattern);
      this.#groups.set(sharedKey, group);
      this.dispatcher.subscribe(session.tenant, pattern, group);
    }
    group.members.set(session, qos);
  }

  unsubscribe(session: MqttSession, filter: string): boolean {
    const old = session.removeSubscription(filter);
    if (old === undefined) return false;
    this.#release(session, old.pattern, old.sharedKey);
    return true;
  }

  /** Drops the dispatcher entry of a pattern the session no longer holds through any filter. */
  #release(session: MqttSession, pattern: string, sharedKey: string | undefined): void {
    if (sharedKey !== undefined) {
      const group = this.#groups.get(sharedKey);
      if (group === undefined) return;
      const stillMember = [...session.subscriptions.values()].some((s) => s.sharedKey === sharedKey);
      if (!stillMember) group.members.delete(session);
      if (group.members.size === 0) {
        this.#groups.delete(sharedKey);
        this.dispatcher.unsubscribe(group.tenant, group.pattern, group);
      }
      return;
    }
    const stillHeld = [...session.subscriptions.values()].some((s) => s.sharedKey === undefined && s.pattern === pattern);
    if (!stillHeld) this.dispatcher.unsubscribe(session.tenant, pattern, session);
  }

  /** Stops accepting, tells MQTT 5 clients the server is shutting down, closes within `closeMs`. */
  async shutdown(closeMs: number): Promise<void> {
    this.#accepting = false;
    this.#unsubscribeRevoked();
    clearInterval(this.#sweep);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const c of this.#connections) c.disconnect(Reason.ServerShuttingDown);
    const deadline = Date.now() + closeMs;
    while (this.#connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.#connections) c.socket.destroy();
    await closed;
  }
}
