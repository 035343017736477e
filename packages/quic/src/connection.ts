// A QUIC connection: streams, datagrams, stats, close.
import { EventEmitter } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { QuicError, QuicErrorCode } from './errors.js';
import { DatagramResult, type NativeEndpoint, type RawStats } from './native.js';
import type { SocketAddress } from './options.js';
import { QuicStream } from './stream.js';

/** How a connection ended. */
export type QuicCloseHow =
  | 'local' // we called close() (or the endpoint closed): code/reason are ours
  | 'remote' // the peer closed with an application code/reason
  | 'idle-timeout' // no packets for the idle timeout (peer gone, path broken)
  | 'transport-local' // our stack closed it for a protocol/TLS error
  | 'transport-remote' // the peer's stack closed it with a transport error code (e.g. TLS alert 0x100+alert)
  | 'reset' // stateless reset received
  | 'version-mismatch'
  | 'cids-exhausted';

export interface QuicCloseInfo {
  how: QuicCloseHow;
  /** Application code (local/remote) or transport error code; undefined for timeouts/resets. */
  code: number | undefined;
  reason: string;
}

/**
 * Connection statistics from quinn. `rttMs` is quinn's smoothed RTT. quinn does not expose its
 * RTT variance, so `rttVarMs` is an RFC 6298-style EWMA (β = 1/4) of the change in smoothed
 * RTT between successive stats() calls on this connection (first call: rtt/2) — call stats()
 * periodically for it to mean something.
 */
export interface QuicConnectionStats {
  rttMs: number;
  rttVarMs: number;
  minRttMs: number;
  /** Congestion window, bytes. */
  congestionWindow: number;
  congestionEvents: number;
  lostPackets: number;
  lostBytes: number;
  sentPackets: number;
  /** UDP payload bytes sent / received (all QUIC overhead included). */
  bytesSent: number;
  bytesReceived: number;
  udpDatagramsSent: number;
  udpDatagramsReceived: number;
  /** QUIC DATAGRAM frames sent / received. */
  datagramsSent: number;
  datagramsReceived: number;
  /** Current path MTU (UDP payload). */
  mtu: number;
}

/** A WebTransport session's CONNECT (server side) or its answer (client side). */
export interface WebTransportSessionInfo {
  /** The CONNECT's :path (with its query). */
  path: string;
  /** Server: the request's fields (lower-case names, pseudo-headers included); client: the response's. */
  headers: Record<string, string>;
  /** Client: the response status (0 when no valid response came). Server: undefined. */
  status: number | undefined;
}

export interface QuicConnectionEvents {
  /** ALPN h3: a WebTransport CONNECT arrived (answer it with respondSession) or was answered. */
  session: [info: WebTransportSessionInfo];
  /** The peer opened a stream (it becomes visible when its first byte or FIN arrives). */
  stream: [stream: QuicStream];
  datagram: [data: Buffer];
  close: [info: QuicCloseInfo];
}

/** What a connection needs from its endpoint (keeps the import graph one-way). */
export interface StreamRegistry {
  addStream(stream: QuicStream): void;
}

export class QuicConnection extends EventEmitter<QuicConnectionEvents> {
  /** Binding handle (unique per endpoint). */
  readonly id: number;
  readonly remoteAddress: SocketAddress;
  /** Negotiated ALPN protocol. */
  readonly alpn: string | undefined;
  /** DER of the peer's leaf certificate (servers always have one; clients only with mutual TLS). */
  readonly peerCertificate: Buffer | undefined;
  /** Settles with how the connection ended; never rejects. */
  readonly closed: Promise<QuicCloseInfo>;
  #native: NativeEndpoint;
  #registry: StreamRegistry;
  #closeInfo: QuicCloseInfo | undefined;
  #resolveClosed!: (info: QuicCloseInfo) => void;
  #x509: X509Certificate | undefined;
  /** @internal streams of this connection still open */
  readonly _streams = new Set<QuicStream>();

  /** @internal */
  constructor(native: NativeEndpoint, registry: StreamRegistry, id: number, remote: SocketAddress, alpn: string | undefined, cert: Buffer | undefined) {
    super();
    this.#native = native;
    this.#registry = registry;
    this.id = id;
    this.remoteAddress = remote;
    this.alpn = alpn;
    this.peerCertificate = cert;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** The peer certificate parsed by node:crypto: `.subject`, `.subjectAltName`, `.fingerprint256`, `.verify()`... */
  get peerX509(): X509Certificate | undefined {
    if (this.#x509 === undefined && this.peerCertificate !== undefined) this.#x509 = new X509Certificate(this.peerCertificate);
    return this.#x509;
  }

  get isClosed(): boolean {
    return this.#closeInfo !== undefined;
  }

  /** Set once 'close' has been emitted. */
  get closeInfo(): QuicCloseInfo | undefined {
    return this.#closeInfo;
  }

  #open(bidi: boolean): QuicStream {
    if (this.#closeInfo !== undefined) throw new QuicError(QuicErrorCode.ConnectionClosed, 'connection is closed');
    let id: number;
    try {
      id = this.#native.openStream(this.id, bidi);
    } catch (err) {
      throw new QuicError(QuicErrorCode.ConnectionClosed, 'connection is closed', { cause: err });
    }
    const s = new QuicStream(this.#native, id, bidi ? 'bidi' : 'uni', 'local');
    this._streams.add(s);
    this.#registry.addStream(s);
    return s;
  }

  /**
   * Opens a bidirectional stream without waiting: write at once, bytes are queued until QUIC
   * grants the stream (peer's stream limit). The peer sees it when the first byte arrives.
   */
  openBidiStream(): QuicStream {
    return this.#open(true);
  }

  /** Opens a unidirectional (send-only) stream; same non-blocking behaviour as openBidiStream(). */
  openUniStream(): QuicStream {
    return this.#open(false);
  }

  /**
   * Sends an unreliable QUIC DATAGRAM (queued; the oldest are dropped if the send buffer is full).
   * Throws QuicError: DatagramTooLarge (see maxDatagramSize), DatagramUnsupported (peer did not
   * enable datagrams), DatagramDisabled, ConnectionClosed.
   */
  sendDatagram(data: Uint8Array): void {
    const r = this.#native.sendDatagram(this.id, data);
    switch (r) {
      case DatagramResult.Sent:
        return;
      case DatagramResult.TooLarge:
        throw new QuicError(QuicErrorCode.DatagramTooLarge, `datagram of ${data.byteLength} bytes exceeds ${String(this.maxDatagramSize)}`);
      case DatagramResult.UnsupportedByPeer:
        throw new QuicError(QuicErrorCode.DatagramUnsupported, 'peer does not accept datagrams');
      case DatagramResult.DisabledLocally:
        throw new QuicError(QuicErrorCode.DatagramDisabled, 'datagrams are disabled');
      case DatagramResult.ConnectionLost:
        throw new QuicError(QuicErrorCode.ConnectionClosed, 'connection is closed');
      default: {
        const unknown: never = r;
        throw new Error(`@fastpubsub/quic: unknown datagram result ${String(unknown)}`);
      }
    }
  }

  /** Largest datagram payload sendDatagram() accepts now (depends on path MTU); undefined if the peer does not accept datagrams or the connection is closed. */
  get maxDatagramSize(): number | undefined {
    return this.#native.maxDatagramSize(this.id) ?? undefined;
  }

  stats(): QuicConnectionStats | undefined {
    const s: RawStats | null = this.#native.stats(this.id);
    if (s === null) return undefined;
    return {
      rttMs: s.rttMs,
      rttVarMs: s.rttVarMs,
      minRttMs: s.minRttMs,
      congestionWindow: s.cwnd,
      congestionEvents: s.congestionEvents,
      lostPackets: s.lostPackets,
      lostBytes: s.lostBytes,
      sentPackets: s.sentPackets,
      bytesSent: s.bytesSent,
      bytesReceived: s.bytesReceived,
      udpDatagramsSent: s.udpDatagramsSent,
      udpDatagramsReceived: s.udpDatagramsReceived,
      datagramsSent: s.datagramsSent,
      datagramsReceived: s.datagramsReceived,
      mtu: s.mtu,
    };
  }

  /**
   * Closes immediately with an application code (integer < 2^53) and reason; 'close' follows with how 'local'.
   * On an open WebTransport session (code ≤ u32) this closes the session with that code (closeSession).
   */
  close(code = 0, reason = ''): void {
    if (this.#closeInfo !== undefined) return;
    if (this.#sessionOpen && Number.isInteger(code) && code >= 0 && code <= 0xffff_ffff) return this.closeSession(code, reason);
    this.#native.closeConnection(this.id, code, reason);
  }

  /** Set once the 'session' event was emitted (ALPN h3 only). */
  webTransportSession: WebTransportSessionInfo | undefined;
  #sessionOpen = false;

  /** Answers a WebTransport CONNECT: 200 opens the session, another status (400–599) refuses it. */
  respondSession(status: number): boolean {
    if (!Number.isInteger(status) || status < 200 || status > 599) throw new QuicError(QuicErrorCode.InvalidOptions, `status must be an integer in [200, 599]: ${status}`);
    const answered = this.#native.respondSession(this.id, status);
    this.#sessionOpen = answered && status === 200;
    return answered;
  }

  /**
   * Closes the WebTransport session with a code (u32) and reason: the browser's
   * `WebTransport.closed` resolves with them; then the connection closes ('close' reports them).
   */
  closeSession(code: number, reason = ''): void {
    if (!Number.isInteger(code) || code < 0 || code > 0xffff_ffff) throw new QuicError(QuicErrorCode.InvalidOptions, `session close code must be a u32: ${code}`);
    if (this.#closeInfo !== undefined) return;
    this.#native.closeSession(this.id, code, reason);
  }

  /** @internal */
  _session(info: WebTransportSessionInfo): void {
    this.webTransportSession = info;
    if (info.status === 200) this.#sessionOpen = true;
    this.emit('session', info);
  }

  /** @internal */
  _closed(info: QuicCloseInfo): void {
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = info;
    const err = new QuicError(QuicErrorCode.ConnectionClosed, `connection closed (${info.how}${info.reason ? `: ${info.reason}` : ''})`, {
      how: info.how,
      ...(info.code === undefined ? {} : { wireCode: info.code }),
    });
    for (const s of this._streams) s._close(err);
    this._streams.clear();
    this.#resolveClosed(info);
    this.emit('close', info);
  }
}
