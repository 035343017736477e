// The client's public shape: the Client interface, its events, state and statistics.
import type { Edge } from './endpoint.js';
import type { ClientError } from './errors.js';
import type { TokenReason } from './options.js';
import type { SubscribeOptions, Subscription } from './subscription.js';
import type { DeliveryMode } from './transport.js';
import type { PresencePage } from './presence.js';

export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ClientEvents {
  state: { state: ClientState; previous: ClientState };
  /** A connection became active (first connect, after a reconnect or a migration). */
  connected: { edge: Edge; migration: boolean };
  /** A reconnect attempt failed; the next one starts after `delayMs`. */
  reconnecting: { attempt: number; delayMs: number; error: Error };
  /** A new RTT sample from PING/PONG (contract §4). */
  rtt: { rttMs: number };
  /** The token provider gave a new token. */
  token: { expiresAt: number | undefined; reason: TokenReason };
  /** A non-fatal error: an `ERR:` from the edge, a failed token refresh, … */
  error: ClientError;
  closed: { error: Error | undefined };
}

export interface ClientStats {
  /** Messages handed to a connection. */
  published: number;
  /** Messages waiting in the publish queue (no connection). */
  queued: number;
  /** Messages the publish queue dropped by its policy. */
  queueDropped: number;
  /** Deliveries dropped as duplicates during a make-before-break overlap. */
  duplicatesDropped: number;
  /** Connections that became active after the first. */
  reconnects: number;
}

export interface PublishOptions {
  delivery?: DeliveryMode;
}

export interface Client {
  readonly state: ClientState;
  /** Latest PING/PONG round trip in ms (undefined before the first PONG). */
  readonly rttMs: number | undefined;
  /** The edge in use (or last used). */
  readonly edge: Edge | undefined;
  readonly stats: Readonly<ClientStats>;
  /** Bytes the active connection holds unsent (backpressure hint; 0 when disconnected). */
  readonly bufferedAmount: number;
  /** What carries the active connection: 'websocket', 'webtransport' or 'quic' (undefined while none is open). */
  readonly transport: 'websocket' | 'webtransport' | 'quic' | undefined;
  on<K extends keyof ClientEvents>(event: K, listener: (e: ClientEvents[K]) => void): () => void;
  publish(tenant: string, channel: string, payload: Uint8Array | string, options?: PublishOptions): void;
  subscribe(tenant: string, pattern: string, options?: SubscribeOptions): Promise<Subscription>;
  /** Who is present in an exact channel, mesh-wide (one page; `next` continues). Needs the subscribe grant. */
  presence(tenant: string, channel: string, options?: { limit?: number; after?: string; signal?: AbortSignal }): Promise<PresencePage>;
  /** Resolves when everything published so far has left the client (queue empty, socket drained). */
  flush(options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the client closes: undefined after close(), else the fatal error. Never rejects. */
  closed(): Promise<Error | undefined>;
}
