// @fastpubsub/client — the FastPubSub SDK. This entry is browser-safe: no Node built-ins, and
// the WebSocket comes from the global scope (or `webSocketImpl`). In Node 20 import
// `@fastpubsub/client/node`, which supplies the `ws` package.
import { ClientImpl, type Client } from './client.js';
import { ClientError, withSignal } from './errors.js';
import type { ConnectOptions } from './options.js';
import type { Transport } from './transport.js';
import { webSocketTransport, type WebSocketConstructor } from './transports/ws.js';
import { autoTransport } from './transports/auto.js';

export type { Client, ClientEvents, ClientState, ClientStats, PublishOptions } from './client.js';
export type { ConnectOptions, ReconnectOptions, QueuePolicy, TokenProvider, TokenReason, TokenResult } from './options.js';
export type { Message, Subscription, SubscribeOptions, SubscriptionStats, OverflowPolicy, Latest, SubscriptionMode } from './subscription.js';
export type { Delivery, DeliveryMode, Transport, TransportConnection, TransportEvents, OpenParams } from './transport.js';
export type { Edge, EdgeProbe } from './endpoint.js';
export type { WebSocketConstructor, WebSocketLike, WebSocketEventLike } from './transports/ws.js';
export { latest } from './subscription.js';
export type { PresenceEvent, PresenceMember, PresenceOptions, PresencePage } from './presence.js';
export { ClientError, isClientError, type ClientErrorCode } from './errors.js';
export { parseEdge, probeEdge, probeEdges, selectFastestEdge, discoverEdges } from './endpoint.js';
export { webSocketTransport } from './transports/ws.js';
export { backoffDelay } from './options.js';
export { publishHttp, publishHttpBatch, HTTP_PUBLISH_TIMEOUT_MS, type HttpPublishOptions, type HttpBatchItem, type HttpBatchResult } from './http-publish.js';

function wsTransport(options: ConnectOptions): Transport {
  const impl = options.webSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (impl === undefined) {
    throw new ClientError('bad_argument', 'no global WebSocket here: in Node import connect from "@fastpubsub/client/node", or pass webSocketImpl');
  }
  return webSocketTransport(impl);
}

/** The WebTransport transport, loaded on first use (WebSocket-only pages never parse it). */
function lazyWebTransport(options: ConnectOptions): Transport {
  return {
    name: 'webtransport',
    open: async (params) => (await import('./transports/webtransport.js')).webTransportTransport(options.webTransport).open(params),
  };
}

function pickTransport(options: ConnectOptions): Transport {
  const t = options.transport ?? 'ws';
  if (typeof t === 'object') return t;
  if (t === 'quic') throw new ClientError('bad_argument', "transport 'quic' is Node only: import connect from '@fastpubsub/client/quic'");
  if (t === 'ws' || t === 'websocket') return wsTransport(options);
  if (t === 'webtransport') return lazyWebTransport(options);
  if (t === 'auto') return autoTransport(lazyWebTransport(options), wsTransport(options), () => 'WebTransport' in globalThis);
  throw new ClientError('bad_argument', `unknown transport ${JSON.stringify(t)}`);
}

/**
 * Connects to the fastest edge and resolves once the connection is open. Rejects (and the
 * client is closed) if the first connection fails; later losses reconnect automatically.
 */
export async function connect(options: ConnectOptions): Promise<Client> {
  const client = new ClientImpl(options, pickTransport(options));
  await withSignal(client.start(options.signal), options.signal);
  return client;
}
