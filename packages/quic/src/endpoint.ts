// A QUIC endpoint: one UDP socket that accepts connections (with `server` options) and/or
// connects out. It owns the event pump: the binding wakes us once per batch of events and we
// dispatch the whole batch.
import { EventEmitter } from 'node:events';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { QuicConnection, type QuicCloseHow, type StreamRegistry } from './connection.js';
import { QuicError, QuicErrorCode } from './errors.js';
import { EventKind, StreamFailure, loadAddon, type NativeEndpoint, type RawEvent } from './native.js';
import {
  parseSocketAddress,
  socketAddress,
  toRawTransport,
  type QuicConnectOptions,
  type QuicEndpointOptions,
  type SocketAddress,
} from './options.js';
import { QuicStream } from './stream.js';

export interface QuicHandshakeFailure {
  remoteAddress: string;
  reason: string;
}

export interface QuicEndpointEvents {
  /** A peer connected; its handshake (and client-certificate check, with mutual TLS) is complete. */
  connection: [connection: QuicConnection];
  /** An incoming handshake failed (bad client certificate, ALPN mismatch, ...). */
  handshakeError: [failure: QuicHandshakeFailure];
  /** The endpoint is closed and released; no more events. */
  close: [];
}

interface PendingConnect {
  resolve: (c: QuicConnection) => void;
  reject: (e: QuicError) => void;
}

export class QuicEndpoint extends EventEmitter<QuicEndpointEvents> implements StreamRegistry {
  /** The bound UDP address (port resolved when 0 was asked). */
  readonly address: SocketAddress;
  readonly #native: NativeEndpoint;
  readonly #conns = new Map<number, QuicConnection>();
  readonly #streams = new Map<number, QuicStream>();
  readonly #pending = new Map<number, PendingConnect>();
  #closing: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  #isClosed = false;

  constructor(options: QuicEndpointOptions = {}) {
    super();
    const addon = loadAddon();
    const host = options.host ?? '0.0.0.0';
    if (isIP(host) === 0) throw new QuicError(QuicErrorCode.InvalidOptions, `host must be an IP address: ${host}`);
    const transport = toRawTransport(options.transport);
    const s = options.server;
    try {
      this.#native = new addon.NativeEndpoint(
        {
          address: socketAddress(host, options.port ?? 0),
          ...(s === undefined
            ? {}
            : {
                server: {
                  certPem: s.certPem,
                  keyPem: s.keyPem,
                  alpn: [...s.alpn],
                  ...(s.clientCaPem === undefined ? {} : { clientCaPem: s.clientCaPem }),
                  ...(s.requireClientCert === undefined ? {} : { requireClientCert: s.requireClientCert }),
                  ...(s.h3CertPem === undefined || s.h3KeyPem === undefined ? {} : { h3CertPem: s.h3CertPem, h3KeyPem: s.h3KeyPem }),
                },
              }),
          transport,
          ...(options.closeTimeoutMs === undefined ? {} : { closeTimeoutMs: options.closeTimeoutMs }),
        },
        () => this.#pump(),
      );
    } catch (err) {
      if (err instanceof QuicError) throw err;
      throw new QuicError(QuicErrorCode.InvalidOptions, err instanceof Error ? err.message : String(err), { cause: err });
    }
    this.address = parseSocketAddress(this.#native.localAddress);
  }

  /** Connections currently open on this endpoint. */
  get connections(): ReadonlyMap<number, QuicConnection> {
    return this.#conns;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Connects to a server; resolves once the handshake is complete (server certificate verified). */
  async connect(options: QuicConnectOptions): Promise<QuicConnection> {
    if (this.#closing !== undefined) throw new QuicError(QuicErrorCode.EndpointClosed, 'endpoint is closed');
    options.signal?.throwIfAborted();
    const ip = isIP(options.host) === 0 ? (await lookup(options.host)).address : options.host;
    let id: number;
    try {
      id = this.#native.connect({
        address: socketAddress(ip, options.port),
        serverName: options.serverName ?? options.host,
        alpn: [...options.alpn],
        ...(options.caPem === undefined ? {} : { caPem: options.caPem }),
        ...(options.certPem === undefined ? {} : { certPem: options.certPem }),
        ...(options.keyPem === undefined ? {} : { keyPem: options.keyPem }),
        ...(options.webTransport === undefined
          ? {}
          : {
              webtransportPath: options.webTransport.path,
              webtransportHeaders: Object.entries(options.webTransport.headers ?? {}).flat(),
            }),
      });
    } catch (err) {
      throw new QuicError(QuicErrorCode.InvalidOptions, err instanceof Error ? err.message : String(err), { cause: err });
    }
    return new Promise<QuicConnection>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = (): void => {
        this.#native.closeConnection(id, 0, 'aborted');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (c) => {
          signal?.removeEventListener('abort', onAbort);
          if (signal?.aborted === true) {
            c.close(0, 'aborted');
            reject(new QuicError(QuicErrorCode.ConnectFailed, 'connect aborted', { cause: signal.reason }));
          } else resolve(c);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
    });
  }

  /**
   * Closes every connection with (code, reason), waits for them to end (at most closeTimeoutMs)
   * and releases the socket and the event pump: the process can then exit on its own.
   */
  close(code = 0, reason = ''): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
      this.#native.close(code, reason);
    });
    return this.#closing;
  }

  /**
   * Serves new handshakes with another certificate (PEM): with `{ h3: true }` the one for
   * clients offering ALPN h3 (WebTransport), else the main one. Open connections keep theirs.
   * Throws QuicError InvalidOptions for a bad certificate or a client-only endpoint.
   */
  setServerCertificate(certPem: string, keyPem: string, opts: { h3?: boolean } = {}): void {
    try {
      this.#native.setServerCertificate(certPem, keyPem, opts.h3 === true);
    } catch (err) {
      throw new QuicError(QuicErrorCode.InvalidOptions, err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  /** Let the process exit while this endpoint is open (like socket.unref()). */
  unref(): this {
    this.#native.unref();
    return this;
  }

  ref(): this {
    this.#native.ref();
    return this;
  }

  /** @internal */
  addStream(stream: QuicStream): void {
    this.#streams.set(stream.id, stream);
  }

  #pump(): void {
    const events = this.#native.poll();
    let firstError: unknown;
    for (const ev of events) {
      try {
        this.#dispatch(ev);
      } catch (err) {
        // A throwing listener must not lose the rest of the batch; rethrow after.
        firstError ??= err;
      }
    }
    if (firstError !== undefined) {
      const e = firstError;
      queueMicrotask(() => {
        throw e instanceof Error ? e : new Error(`listener threw a non-Error: ${typeof e}`);
      });
    }
  }

  #dispatch(ev: RawEvent): void {
    switch (ev.kind) {
      case EventKind.Data: {
        const s = this.#streams.get(ev.id);
        if (s !== undefined && ev.data) s._push(['data', ev.data]);
        return;
      }
      case EventKind.Drain:
        this.#streams.get(ev.id)?.emit('drain');
        return;
      case EventKind.Datagram: {
        const c = this.#conns.get(ev.conn);
        if (c !== undefined && ev.data) c.emit('datagram', ev.data);
        return;
      }
      case EventKind.Stream: {
        const c = this.#conns.get(ev.conn);
        if (c === undefined) return;
        const s = new QuicStream(this.#native, ev.id, ev.flag ? 'bidi' : 'uni', 'remote', ev.num);
        this.#streams.set(s.id, s);
        c._streams.add(s);
        c.emit('stream', s);
        return;
      }
      case EventKind.StreamOpened: {
        const s = this.#streams.get(ev.id);
        if (s !== undefined) {
          s.quicId = ev.num;
          s.emit('open');
        }
        return;
      }
      case EventKind.Fin:
        this.#streams.get(ev.id)?._push(['end']);
        return;
      case EventKind.Reset:
        this.#streams.get(ev.id)?._push(['reset', ev.code]);
        return;
      case EventKind.Stopped:
        this.#streams.get(ev.id)?.emit('stop', ev.code);
        return;
      case EventKind.StreamError:
        this.#streams.get(ev.id)?._fail(
          new QuicError(ev.code === StreamFailure.OpenFailed ? QuicErrorCode.StreamOpenFailed : QuicErrorCode.ConnectionClosed, ev.text),
        );
        return;
      case EventKind.StreamClosed: {
        const s = this.#streams.get(ev.id);
        if (s === undefined) return;
        this.#streams.delete(ev.id);
        this.#conns.get(ev.conn)?._streams.delete(s);
        s._close();
        return;
      }
      case EventKind.Connection:
      case EventKind.Connected: {
        const c = new QuicConnection(this.#native, this, ev.id, parseSocketAddress(ev.text), ev.text2 ?? undefined, ev.data ?? undefined);
        this.#conns.set(c.id, c);
        if (ev.kind === EventKind.Connection) this.emit('connection', c);
        else {
          const p = this.#pending.get(ev.id);
          this.#pending.delete(ev.id);
          p?.resolve(c);
        }
        return;
      }
      case EventKind.ConnectFailed: {
        const p = this.#pending.get(ev.id);
        this.#pending.delete(ev.id);
        p?.reject(
          new QuicError(QuicErrorCode.ConnectFailed, `connect failed (${ev.text2}): ${ev.text}`, {
            how: ev.text2,
            ...(ev.code == null ? {} : { wireCode: ev.code }),
          }),
        );
        return;
      }
      case EventKind.ConnClosed: {
        const c = this.#conns.get(ev.id);
        if (c === undefined) return;
        this.#conns.delete(ev.id);
        for (const s of c._streams) this.#streams.delete(s.id);
        c._closed({ how: ev.text2 as QuicCloseHow, code: ev.code ?? undefined, reason: ev.text });
        return;
      }
      case EventKind.Session: {
        const c = this.#conns.get(ev.conn);
        if (c !== undefined) c._session({ path: ev.text, headers: JSON.parse(ev.text2) as Record<string, string>, status: ev.code ?? undefined });
        return;
      }
      case EventKind.HandshakeFailed:
        this.emit('handshakeError', { remoteAddress: ev.text, reason: ev.text2 });
        return;
      case EventKind.EndpointClosed: {
        this.#isClosed = true;
        for (const [id, p] of this.#pending) {
          this.#pending.delete(id);
          p.reject(new QuicError(QuicErrorCode.EndpointClosed, 'endpoint closed'));
        }
        this.#resolveClosed?.();
        this.emit('close');
        return;
      }
      default: {
        const unknown: never = ev;
        throw new Error(`@fastpubsub/quic: unknown native event ${JSON.stringify(unknown)}`);
      }
    }
  }
}
