// Public option types, their defaults (one place, with units) and strict validation.
import { QuicError, QuicErrorCode } from './errors.js';
import type { RawTransportOptions } from './native.js';

/** Flow control, stream limits, timers, datagrams, congestion. All sizes in bytes. */
export interface QuicTransportOptions {
  /** Per-stream receive window. Default 256 KiB: well below the connection window, so one stalled stream can never take the whole connection's credit. */
  streamReceiveWindow?: number;
  /** Connection receive window (all streams together). Default 8 MiB. */
  receiveWindow?: number;
  /** Connection send window (unacknowledged bytes in flight, all streams). Default 8 MiB. */
  sendWindow?: number;
  /** Concurrent bidirectional streams the peer may open. Default 1024. */
  maxConcurrentBidiStreams?: number;
  /** Concurrent unidirectional streams the peer may open. Default 1024. */
  maxConcurrentUniStreams?: number;
  /** Keep-alive PING interval in ms; 0 disables. Default 3000. */
  keepAliveIntervalMs?: number;
  /** Idle timeout in ms (the lower of both sides' values applies); 0 disables. Default 10000. */
  idleTimeoutMs?: number;
  /** Bytes of received datagrams buffered for JS; 0 refuses datagrams. Default 1 MiB. */
  datagramReceiveBufferSize?: number;
  /** Bytes of outgoing datagrams buffered (oldest dropped beyond). Default 1 MiB. */
  datagramSendBufferSize?: number;
  /** Congestion controller. Default 'cubic'. */
  congestion?: 'cubic' | 'newreno' | 'bbr';
  /** Initial UDP payload size (≥ 1200); path MTU discovery raises it. Default 1200. */
  initialMtu?: number;
  /** Per-stream bytes buffered in Rust above which write() returns false. Default 256 KiB. */
  sendHighWaterMark?: number;
  /** Per-stream bytes read but not yet delivered to JS above which reading pauses. Default 256 KiB. */
  recvHighWaterMark?: number;
  // Loss recovery and ACKs (docs/quic-edge.md "Loss recovery"). Defaults are quinn's = RFC 9002's.
  /** Packets reordered before an earlier one is declared lost, ≥ 3. Default 3 (RFC 9002 §6.1.1 kPacketThreshold). */
  packetThreshold?: number;
  /** Time threshold, a multiple of the RTT after which an earlier unacknowledged packet is lost, ≥ 1. Default 9/8 (RFC 9002 §6.1.2). */
  timeThreshold?: number;
  /** RTT assumed before the first sample, ms. Default 333 (RFC 9002 §6.2.2 kInitialRtt). */
  initialRttMs?: number;
  /** PTOs without an ACK that declare persistent congestion (window reset to the minimum), ≥ 1. Default 3 (RFC 9002 §7.6.1). */
  persistentCongestionThreshold?: number;
  /**
   * Ask the peer, with the ACK-frequency extension (draft-ietf-quic-ack-frequency; the binding
   * supports it on both sides), to ACK per `ackMaxDelayMs`/`ackElicitingThreshold`/`ackReorderingThreshold`.
   * Why: the sender's probe timeout is srtt + 4·rttvar + the peer's max_ack_delay (RFC 9002 §6.2.1), and
   * quinn's max_ack_delay is 25 ms, which dominates the PTO on short paths. Default false.
   */
  ackFrequency?: boolean;
  /** With ackFrequency: max_ack_delay requested of the peer, ms (≥ 1 — quinn's timer granularity; 0 = the peer's own, 25 ms). Default 0. */
  ackMaxDelayMs?: number;
  /** With ackFrequency: ack-eliciting packets the peer may take before it must ACK (0 = every packet). Default 1 (RFC 9000 §13.2.2: every second packet). */
  ackElicitingThreshold?: number;
  /** With ackFrequency: reordering gap that triggers an immediate ACK (1 = any gap, RFC 9000 §13.2.1; 0 = never). Default 2. */
  ackReorderingThreshold?: number;
  /**
   * Congestion-window floor in bytes; 0 = none (RFC 9002 §7.2: 2 datagrams). Under random,
   * non-congestive loss the window otherwise sits at 2 datagrams, so each lost ACK costs a PTO.
   * A departure from RFC 9002 §7.2: use only where the sender's rate is bounded by the application
   * (pub/sub edges), never for bulk transfer on shared paths. Pacing still applies. Default 0.
   */
  minCongestionWindow?: number;
}

export const TRANSPORT_DEFAULTS: Readonly<Required<QuicTransportOptions>> = Object.freeze({
  streamReceiveWindow: 256 * 1024,
  receiveWindow: 8 * 1024 * 1024,
  sendWindow: 8 * 1024 * 1024,
  maxConcurrentBidiStreams: 1024,
  maxConcurrentUniStreams: 1024,
  keepAliveIntervalMs: 3_000,
  idleTimeoutMs: 10_000,
  datagramReceiveBufferSize: 1024 * 1024,
  datagramSendBufferSize: 1024 * 1024,
  congestion: 'cubic',
  initialMtu: 1200,
  sendHighWaterMark: 256 * 1024,
  recvHighWaterMark: 256 * 1024,
  packetThreshold: 3,
  timeThreshold: 9 / 8,
  initialRttMs: 333,
  persistentCongestionThreshold: 3,
  ackFrequency: false,
  ackMaxDelayMs: 0,
  ackElicitingThreshold: 1,
  ackReorderingThreshold: 2,
  minCongestionWindow: 0,
});

/**
 * Loss-recovery settings for a latency-sensitive endpoint whose sending rate the application
 * bounds (a pub/sub client publishing, the relay's edge fanning out). Measured in
 * docs/benchmarks.md (bench:loss): at 10 % random loss in both directions the window otherwise
 * sits at 2 datagrams and a lost ACK costs a 25 ms+ PTO, doubling on each repeat.
 * - minCongestionWindow 64 KiB: floor under RFC 9002 §7.2's 2-datagram minimum (see the option).
 * - ackFrequency, ackMaxDelayMs 1, ackElicitingThreshold 0, ackReorderingThreshold 1: the peer ACKs
 *   every packet and any gap at once (RFC 9000 §13.2.1), so losses are found by ACKs (RFC 9002
 *   §6.1) and the PTO (§6.2.1) carries 1 ms (kGranularity, §6.1.2) of peer ACK delay, not 25 ms.
 */
export const LOW_LATENCY_TRANSPORT: Readonly<QuicTransportOptions> = Object.freeze({
  minCongestionWindow: 64 * 1024,
  ackFrequency: true,
  ackMaxDelayMs: 1,
  ackElicitingThreshold: 0,
  ackReorderingThreshold: 1,
});

export interface QuicServerTlsOptions {
  /** PEM certificate chain, leaf first. */
  certPem: string;
  /** PEM private key (PKCS#8, PKCS#1 or SEC1). */
  keyPem: string;
  /** Accepted ALPN protocols, e.g. ['fastpubsub/1']. A client offering none of them is refused. */
  alpn: readonly string[];
  /** PEM CA certificate(s) for mutual TLS: client certificates are verified against them during the handshake, before 'connection' is emitted. */
  clientCaPem?: string;
  /** With clientCaPem: refuse clients without a certificate. Default true. */
  requireClientCert?: boolean;
  /**
   * Certificate and key (PEM) served instead to clients offering ALPN h3 (WebTransport), e.g. a
   * short-lived one browsers pin by hash; both or neither. Replace with setServerCertificate.
   */
  h3CertPem?: string;
  h3KeyPem?: string;
}

export interface QuicEndpointOptions {
  /** IP address to bind. Default '0.0.0.0'. */
  host?: string;
  /** UDP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Accept incoming connections with this TLS identity. Without it the endpoint only connects out. */
  server?: QuicServerTlsOptions;
  /** Applies to every connection of this endpoint, incoming and outgoing. */
  transport?: QuicTransportOptions;
  /** Upper bound for close() to wait for connections to end, in ms. Default 2000. */
  closeTimeoutMs?: number;
}

export interface QuicConnectOptions {
  /** Server IP address or host name (resolved with dns.lookup). */
  host: string;
  port: number;
  /** Name checked against the server certificate (SNI). Default: host. */
  serverName?: string;
  /** ALPN protocols offered, in preference order. */
  alpn: readonly string[];
  /** PEM CA certificate(s) trusted for the server; default: the system roots. */
  caPem?: string;
  /** Client certificate chain (PEM) for mutual TLS; with keyPem. */
  certPem?: string;
  keyPem?: string;
  /** Abort the attempt (closes the half-open connection). */
  signal?: AbortSignal;
  /**
   * Open a WebTransport session (needs alpn ['h3']): the CONNECT's path and extra request
   * headers. The connection's 'session' event then carries the response status.
   */
  webTransport?: { path: string; headers?: Readonly<Record<string, string>> };
}

function invalid(msg: string): never {
  throw new QuicError(QuicErrorCode.InvalidOptions, msg);
}

const U32 = 0xffff_ffff;

/** A rejected option's value as the error message shows it. */
const show = (v: unknown): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** Validates `o` and resolves it against TRANSPORT_DEFAULTS: the native layer gets every option. */
export function toRawTransport(o: QuicTransportOptions | undefined = {}): RawTransportOptions {
  const known = new Set(Object.keys(TRANSPORT_DEFAULTS));
  for (const k of Object.keys(o)) if (!known.has(k)) invalid(`transport: unknown option '${k}'`);
  const out: QuicTransportOptions = {};
  for (const [k, v] of Object.entries(o) as [keyof QuicTransportOptions, unknown][]) {
    if (v === undefined) continue;
    if (k === 'congestion') {
      if (v !== 'cubic' && v !== 'newreno' && v !== 'bbr') invalid(`transport.congestion: '${show(v)}'`);
      out.congestion = v;
      continue;
    }
    if (k === 'ackFrequency') {
      if (typeof v !== 'boolean') invalid(`transport.ackFrequency: expected a boolean, got ${show(v)}`);
      out.ackFrequency = v;
      continue;
    }
    if (k === 'timeThreshold') {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 1 || v > 16) invalid(`transport.timeThreshold: expected a number in [1, 16], got ${show(v)}`);
      out.timeThreshold = v;
      continue;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > U32) {
      invalid(`transport.${k}: expected an integer in [0, 2^32), got ${show(v)}`);
    }
    out[k] = v;
  }
  if (out.packetThreshold !== undefined && out.packetThreshold < 3) invalid('transport.packetThreshold: at least 3 (RFC 9002 §6.1.1)');
  if (out.initialRttMs === 0) invalid('transport.initialRttMs: at least 1');
  if (out.persistentCongestionThreshold === 0) invalid('transport.persistentCongestionThreshold: at least 1');
  if (out.initialMtu !== undefined && (out.initialMtu < 1200 || out.initialMtu > 65535)) invalid('transport.initialMtu: 1200..65535');
  return { ...TRANSPORT_DEFAULTS, ...out };
}

export function socketAddress(host: string, port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 65535) invalid(`port: ${port}`);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface SocketAddress {
  host: string;
  port: number;
}

export function parseSocketAddress(s: string): SocketAddress {
  const i = s.lastIndexOf(':');
  let host = s.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(s.slice(i + 1)) };
}
