// The one module that touches the raw native addon (native/quic, napi-rs). Everything here is
// internal: the public API is endpoint.ts / connection.ts / stream.ts. The addon is loosely
// typed; this file pins the shape we rely on.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Event kinds pushed by the addon (native/quic/src/shared.rs `kind`). */
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
} as const;

export interface RawEvent {
  kind: number;
  id: number;
  conn: number;
  code?: number | null;
  num?: number | null;
  flag: boolean;
  data?: Buffer | null;
  text?: string | null;
  text2?: string | null;
}

export interface RawTransportOptions {
  streamReceiveWindow?: number;
  receiveWindow?: number;
  sendWindow?: number;
  maxConcurrentBidiStreams?: number;
  maxConcurrentUniStreams?: number;
  keepAliveIntervalMs?: number;
  idleTimeoutMs?: number;
  datagramReceiveBufferSize?: number;
  datagramSendBufferSize?: number;
  congestion?: string;
  initialMtu?: number;
  sendHighWaterMark?: number;
  recvHighWaterMark?: number;
  packetThreshold?: number;
  timeThreshold?: number;
  initialRttMs?: number;
  persistentCongestionThreshold?: number;
  ackFrequency?: boolean;
  ackMaxDelayMs?: number;
  ackElicitingThreshold?: number;
  ackReorderingThreshold?: number;
  minCongestionWindow?: number;
}

export interface RawEndpointOptions {
  address: string;
  server?: { certPem: string; keyPem: string; alpn: string[]; clientCaPem?: string; requireClientCert?: boolean };
  transport?: RawTransportOptions;
  closeTimeoutMs?: number;
}

export interface RawConnectOptions {
  address: string;
  serverName: string;
  alpn: string[];
  caPem?: string;
  certPem?: string;
  keyPem?: string;
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
  write(stream: number, data: Uint8Array): number;
  writev(stream: number, data: Uint8Array[]): number;
  buffered(stream: number): number;
  finish(stream: number): boolean;
  reset(stream: number, code: number): boolean;
  stopSending(stream: number, code: number): boolean;
  setPaused(stream: number, paused: boolean): void;
  sendDatagram(conn: number, data: Uint8Array): number;
  maxDatagramSize(conn: number): number | null;
  closeConnection(conn: number, code: number, reason: string): void;
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

interface Addon {
  NativeEndpoint: new (options: RawEndpointOptions, wake: (n: number) => void) => NativeEndpoint;
  generateTestPki(serverNames: string[], clientName: string): RawTestPki;
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
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const raw: any = createRequire(import.meta.url)(path);
      addon = raw as Addon;
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
