export { QuicEndpoint, type QuicEndpointEvents, type QuicHandshakeFailure } from './endpoint.js';
export {
  QuicConnection,
  type QuicCloseHow,
  type QuicCloseInfo,
  type QuicConnectionEvents,
  type QuicConnectionStats,
  type WebTransportSessionInfo,
} from './connection.js';
export {
  WEBTRANSPORT_CERT_MAX_VALID_MS,
  generateWebTransportCert,
  http3CodeToWebTransport,
  webTransportCodeToHttp3,
  type WebTransportCert,
} from './webtransport.js';
export { QuicStream, type QuicStreamDirection, type QuicStreamEvents } from './stream.js';
export { QuicError, QuicErrorCode } from './errors.js';
export {
  LOW_LATENCY_TRANSPORT,
  TRANSPORT_DEFAULTS,
  type QuicConnectOptions,
  type QuicEndpointOptions,
  type QuicServerTlsOptions,
  type QuicTransportOptions,
  type SocketAddress,
} from './options.js';
export { generateTestPki, type TestPki } from './testing.js';
export { FlushBatcher, writeFrames, type Flushable } from './batch.js';
