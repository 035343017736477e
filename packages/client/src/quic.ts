// @fastpubsub/client/quic — the SDK over the relay's QUIC edge, Node only (it loads the native
// QUIC addon, so the browser entry never imports it). `connect()` is the Node connect with
// `transport: 'quic'` supported; `QuicEdgeClient` is the lower-level client (one object per
// connection, callbacks per subscription) for tools and benchmarks.
import { connect as connectNode, type Client, type ConnectOptions } from './node.js';
import { quicTransport, type QuicTransportConfig } from './transports/quic.js';

export * from './node.js';
export { quicTransport, type QuicTransportConfig } from './transports/quic.js';
export {
  QuicEdgeClient,
  QuicEdgeSubscription,
  QUIC_ALPN,
  QUIC_RECONNECT_CODE,
  type QuicEdgeClientOptions,
  type QuicMessage,
  type QuicSubscribeOptions,
} from './transports/quic-client.js';

export interface QuicConnectOptions extends ConnectOptions {
  /** Where and how to reach the edges' QUIC endpoint (default: HTTP port + 1, system roots). */
  quic?: QuicTransportConfig;
}

/** connect() where `transport: 'quic'` (the default here) uses the QUIC edge. */
export function connect(options: QuicConnectOptions): Promise<Client> {
  const { quic, ...rest } = options;
  const t = rest.transport ?? 'quic';
  return connectNode({ ...rest, transport: t === 'quic' ? quicTransport(quic) : t });
}
