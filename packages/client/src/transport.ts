// The transport seam. The client core (reconnect, make-before-break, de-duplication, queues,
// tokens) talks only to these interfaces; a transport turns them into bytes. The WebSocket
// transport (contract v0.1) lives in ./transports/ws.ts; a QUIC transport (one stream per
// subscription) implements the same two interfaces: `subscribe` opens a stream and
// `onSubscribed` fires when the edge accepts it, `onDelivery` carries every matching pattern.
import type { ClientError } from './errors.js';
import type { Edge } from './endpoint.js';

export type DeliveryMode = 'broadcast' | 'one-low-latency' | 'one-random';

export interface Delivery {
  tenant: string;
  channel: string;
  payload: Uint8Array;
  /** Every subscription pattern of this connection that matched, byte-identical to its SUB. */
  patterns: string[];
}

/** What a transport reports about one open connection; called in frame order. */
export interface TransportEvents {
  onDelivery(delivery: Delivery): void;
  onSubscribed(tenant: string, pattern: string): void;
  onUnsubscribed(tenant: string, pattern: string): void;
  onPong(): void;
  /** An `ERR:` from the edge. `code` is the first field (`permission_denied`, `token_expired`, …). */
  onServerError(code: string, detail: string | undefined): void;
  /** The edge asks the client to migrate (contract §6). */
  onReconnectRequested(): void;
  /** The edge's answer to `meshReady()`: complete unless the edge gave up waiting. */
  onMeshReady?(tenant: string, pattern: string, complete: boolean): void;
  /** Latest mode: `count` messages of (tenant, pattern) were superseded at the edge before delivery. */
  onSuperseded?(tenant: string, pattern: string, count: number): void;
  /** A line of the presence extension (`PRESENCE:…`, `OK:PRESENCE:…`); transports without it never call this. */
  onPresence?(line: string): void;
  /** The connection is gone; `error` is undefined after a local `close()`. Fires once. */
  onClose(error: ClientError | undefined): void;
}

/** One open connection to an edge. Methods never throw on a closed connection; they no-op. */
/** How one (tenant, pattern) subscription asks to be delivered. */
export interface SubscribeWireOptions {
  /** Latest mode: the edge keeps only the newest undelivered message per channel. */
  latest?: boolean;
}

export interface TransportConnection {
  subscribe(tenant: string, pattern: string, options?: SubscribeWireOptions): void;
  unsubscribe(tenant: string, pattern: string): void;
  publish(tenant: string, channel: string, payload: Uint8Array, mode: DeliveryMode): void;
  ping(): void;
  /** Asks the edge to answer once the relay mesh routes (tenant, pattern) to it; absent if the transport cannot. */
  meshReady?(tenant: string, pattern: string): void;
  /** Sends one line of the presence extension; absent on transports without it. */
  presence?(line: string): void;
  /** Bytes accepted but not yet handed to the network (backpressure hint). */
  readonly bufferedAmount: number;
  /**
   * Resolves once nothing accepted waits on backpressure any more (every byte is on its way to
   * the network) or the connection has ended; driven by the platform's write events. Undefined
   * (or absent) where the platform reports none (the browser's WebSocket): the caller then
   * watches `bufferedAmount`.
   */
  drained?(): Promise<void> | undefined;
  /** What carries this connection (default: 'websocket'). */
  readonly transport?: TransportName;
  close(): void;
}

export type TransportName = 'websocket' | 'webtransport' | 'quic';

export interface OpenParams {
  edge: Edge;
  token: string;
  events: TransportEvents;
  signal?: AbortSignal;
  /** Bound on the handshake, in milliseconds. */
  timeoutMs: number;
}

export interface Transport {
  readonly name: string;
  /**
   * Opens a connection. Rejects with a ClientError: `unauthorized` (401, the token is bad or
   * expired), `forbidden` (403), `protocol`, `timeout`, `aborted` or `connect_failed`.
   */
  open(params: OpenParams): Promise<TransportConnection>;
}
