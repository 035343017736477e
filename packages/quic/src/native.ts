// The one module that touches the raw native addon (native/quic, napi-rs). Everything here is
// internal: the public API is endpoint.ts / connection.ts / stream.ts. The addon is loosely
// typed; this file pins the shape we rely on.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Event kinds pushed by the addon (native/quic/src/events.rs `EventKind`). */
export const EventKind = {
  Connection: 1,
  Connected: 2,
  ConnectFailed: 3,
  ConnClosed: 4,
  Stream: 5,
  Data: 6,
  Fin: 7,
  Reset: 8,
  Stopped: 9,
  Drain: 10,
  Datagram: 11,
  StreamError: 12,
  StreamClosed: 13,
  EndpointClosed: 14,
  HandshakeFailed: 15,
  StreamOpened: 16,
  Session: 17,
} as const;

type Kind = typeof EventKind;
interface EventBase {
  id: number;
  conn: number;
  flag: boolean;
}

/** Why a stream failed (STREAM_ERROR code; native/quic/src/events.rs `StreamFailure`). */
export const StreamFailure = { OpenFailed: 1, ConnectionLost: 2 } as const;

/**
 * One event from poll(), by kind (native/quic/src/events.rs `Event::into_raw` fills the flat
 * fields). `id` is the connection's handle for connection events, the stream's for stream
 * events; `conn` is always the connection's.
 */
export type RawEvent =
  | (EventBase & {
      kind: Kind['Connection'] | Kind['Connected'];
      /** Remote address. */
      text: string;
      /** Negotiated ALPN. */
      text2?: string | null;
      /** The peer's leaf certificate (DER), when it presented one. */
      data?: Buffer | null;
    })
  | (EventBase & {
      kind: Kind['ConnectFailed'] | Kind['ConnClosed'];
      /** Application or transport error code, when there is one. */
      code?: number | null;
      /** Reason. */
      text: string;
      /** How: local | remote | idle-timeout | transport-local | transport-remote | reset | … */
      text2: string;
    })
  | (EventBase & { kind: Kind['Stream']; /** QUIC stream index; `flag`: bidirectional. */ num: number })
  | (EventBase & { kind: Kind['StreamOpened']; /** QUIC stream index. */ num: number })
  | (EventBase & { kind: Kind['Data'] | Kind['Datagram']; data: Buffer })
  | (EventBase & { kind: Kind['Reset'] | Kind['Stopped']; code: number })
  | (EventBase & { kind: Kind['StreamError']; code: (typeof StreamFailure)[keyof typeof StreamFailure]; text: string })
  | (EventBase & { kind: Kind['Fin'] | Kind['Drain'] | Kind['StreamClosed'] | Kind['EndpointClosed'] })
  | (EventBase & {
      kind: Kind['Session'];
      /** The CONNECT's :path. */
      text: string;
      /** Request (server) or response (client) fields as a JSON object. */
      text2: string;
      /** Client: the response status (0: no valid response). Server: absent. */
      code?: number | null;
    })
  | (EventBase & { kind: Kind['HandshakeFailed']; /** Remote address. */ text: string; /** how: reason. */ text2: string });

/** Result of write()/writev() (native/quic/src/stream.rs `WriteResult`). */
export const WriteResult = {
  /** Not writable (finished, reset, stopped or lost): the bytes were dropped. */
  Closed: -1,
  /** Accepted, at or above the high-water mark: wait for drain. */
  Full: 0,
  /** Accepted, below the high-water mark. */
  Accepted: 1,
} as const;
export type WriteResult = (typeof WriteResult)[keyof typeof WriteResult];

/** Result of sendDatagram() (native/quic/src/endpoint.rs `DatagramResult`). */
export const DatagramResult = { Sent: 0, TooLarge: 1, UnsupportedByPeer: 2, DisabledLocally: 3, ConnectionLost: 4 } as const;
export type DatagramResult = (typeof DatagramResult)[keyof typeof DatagramResult];


/** Every transport option, resolved (packages/quic/src/options.ts TRANSPORT_DEFAULTS is the one table of defaults). */
export interface RawTransportOptions {
  streamReceiveWindow: number;
  receiveWindow: number;
  sendWindow: number;
  maxConcurrentBidiStreams: number;
  maxConcurrentUniStreams: number;
  keepAliveIntervalMs: number;
  idleTimeoutMs: number;
  datagramReceiveBufferSize: number;
  datagramSendBufferSize: number;
  congestion: string;
  initialMtu: number;
  sendHighWaterMark: number;
  recvHighWaterMark: number;
  packetThreshold: number;
  timeThreshold: number;
  initialRttMs: number;
  persistentCongestionThreshold: number;
  ackFrequency: boolean;
  ackMaxDelayMs: number;
  ackElicitingThreshold: number;
  ackReorderingThreshold: number;
  minCongestionWindow: number;
}

export interface RawEndpointOptions {
  address: string;
  server?: { certPem: string; keyPem: string; alpn: string[]; clientCaPem?: string; requireClientCert?: boolean; h3CertPem?: string; h3KeyPem?: string };
  transport: RawTransportOptions;
  closeTimeoutMs?: number;
}

export interface RawConnectOptions {
  address: string;
  serverName: string;
  alpn: string[];
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  webtransportPath?: string;
  webtransportHeaders?: string[];
}

export interface RawStats {
  rttMs: number;
  rttVarMs: number;
  minRttMs: number;
  cwnd: number;
  congestionEvents: number;
  lostPackets: number;
  lostBytes: number;
  sentPackets: number;
  bytesSent: number;
  bytesReceived: number;
  udpDatagramsSent: number;
  udpDatagramsReceived: number;
  datagramsSent: number;
  datagramsReceived: number;
  mtu: number;
}

export interface NativeEndpoint {
  readonly localAddress: string;
  poll(): RawEvent[];
  connect(o: RawConnectOptions): number;
  openStream(conn: number, bidi: boolean): number;
  write(stream: number, data: Uint8Array): WriteResult;
  writev(stream: number, data: Uint8Array[]): WriteResult;
  buffered(stream: number): number;
  notifyWhenEmpty(stream: number): boolean;
  finish(stream: number): boolean;
  reset(stream: number, code: number): boolean;
  stopSending(stream: number, code: number): boolean;
  setPaused(stream: number, paused: boolean): void;
  sendDatagram(conn: number, data: Uint8Array): DatagramResult;
  maxDatagramSize(conn: number): number | null;
  closeConnection(conn: number, code: number, reason: string): void;
  respondSession(conn: number, status: number): boolean;
  setServerCertificate(certPem: string, keyPem: string, h3: boolean): void;
  closeSession(conn: number, code: number, reason: string): void;
  stats(conn: number): RawStats | null;
  close(code: number, reason: string): void;
  unref(): void;
  ref(): void;
}

export interface RawTestPki {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

export interface RawWebTransportCert {
  certPem: string;
  keyPem: string;
  notBefore: number;
  notAfter: number;
}

interface Addon {
  NativeEndpoint: new (options: RawEndpointOptions, wake: (n: number) => void) => NativeEndpoint;
  generateTestPki(serverNames: string[], clientName: string): RawTestPki;
  webtransportCodeToHttp3(code: number): number;
  generateWebtransportCert(names: string[], notBefore: number, validSecs: number): RawWebTransportCert;
  http3CodeToWebtransport(code: number): number | null;
}

let addon: Addon | undefined;

/** Path of the compiled addon (built by `npm install` via scripts/build-native.mjs). */
export function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', 'native', `fastpubsub_quic.${process.platform}-${process.arch}.node`);
}

export function loadAddon(): Addon {
  if (addon === undefined) {
    const path = addonPath();
    try {
      addon = createRequire(import.meta.url)(path) as Addon;
    } catch (err) {
      throw new Error(
        `@fastpubsub/quic: cannot load the native addon at ${path}. Build it with ` +
          '`npm run build:native -w @fastpubsub/quic` (needs cargo).',
        { cause: err },
      );
    }
  }
  return addon;
}
