// A Node client for the relay's QUIC edge (docs/quic-edge.md): one bidirectional control stream
// (AUTH, SUB, UNSUB, PUB, PING in native frames), one unidirectional stream per subscription
// opened by the relay (first frame OK{id}, then MSG), DMSG datagrams for datagram
// subscriptions and PUB datagrams for unreliable publishes. Node only: it loads the native
// QUIC addon, so the browser entry never imports this file.
import {
  LOW_LATENCY_TRANSPORT,
  QuicEndpoint,
  type QuicConnection,
  type QuicStream,
  type QuicTransportOptions,
  type WebTransportSessionInfo,
} from '@fastpubsub/quic';
import {
  FrameDecoder,
  FrameType,
  SubFlags,
  decodeDmsg,
  decodeErr,
  decodeFrame,
  decodeMsg,
  decodeOk,
  parseSupersededNotice,
  decodePong,
  decodePresenceInfo,
  encodePresenceRequest,
  type PresenceInfoFrame,
  type PresenceOp,
  encodeAuth,
  encodePing,
  encodePub,
  encodeSub,
  encodeUnsub,
  type Frame,
  type PublishMode,
  ALPN,
  QUIC_RECONNECT_CODE,
  QuicCloseCode,
} from '@fastpubsub/wire';
import { ClientError } from '../errors.js';
import { ControlWriter } from './quic-control-writer.js';
import { QuicEdgeSubscription, type QuicSubscribeOptions } from './quic-subscription.js';

/** Every connection of this process flushes its control stream from one end-of-turn microtask. */

export const QUIC_ALPN = ALPN;
export { QUIC_RECONNECT_CODE };

export interface QuicEdgeClientOptions {
  host: string;
  port: number;
  token: string;
  /** PEM CA the relay's certificate chains to (e.g. Relay.quicCaPem); default: system roots. */
  caPem?: string;
  /** Name checked against the certificate; default: host. */
  serverName?: string;
  signal?: AbortSignal;
  /** Bound on connect + AUTH, ms (default 10 000). */
  timeoutMs?: number;
  /** Transport tuning (flow-control windows etc.) of the client endpoint, over LOW_LATENCY_TRANSPORT (the publisher is the sender on the PUB path). */
  transport?: QuicTransportOptions;
  /** An ERR not tied to a subscription request (id 0), e.g. a refused PUB. */
  onServerError?: (code: string, detail: string) => void;
  /** A PRESENCE_INFO frame: a watched channel's event or a GET's page (docs/presence.md). */
  onPresence?: (info: PresenceInfoFrame) => void;
  /** The relay asks to reconnect (it is shutting down). */
  onReconnectRequested?: () => void;
  /**
   * Bytes from the relay that do not decode (ClientError 'protocol'). The control stream then
   * closes the connection (protocol_error), a subscription stream is stopped, a datagram is
   * dropped; each is reported here, never swallowed.
   */
  onProtocolError?: (err: ClientError) => void;
  /** The connection ended; `reason` is the relay's ErrorCode when it closed it. */
  onClose?: (info: { code: number | undefined; reason: string; how: string }) => void;
  /**
   * publish() returns false once `bufferedAmount` (frames not yet handed to QUIC) reaches this;
   * wait for `drained()` before publishing more. Bytes, default 1 MiB.
   */
  publishHighWaterMark?: number;
  /**
   * Hard bound on `bufferedAmount`: a publish that would pass it throws ClientError('queue_full')
   * and sends nothing, so a publisher faster than the path fails loudly instead of queueing
   * without bound (latency would grow to seconds). Bytes, default 16 MiB, ≥ publishHighWaterMark.
   */
  maxBufferedBytes?: number;
  /**
   * Carry the same protocol over WebTransport (HTTP/3, ALPN h3) at this CONNECT path (the
   * relay's is '/fastpubsub', GET /v1/webtransport) instead of raw QUIC.
   */
  webTransportPath?: string;
}

export const QUIC_PUBLISH_HIGH_WATER_MARK = 1024 * 1024;
export const QUIC_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export { QuicEdgeSubscription, type QuicMessage, type QuicSubscribeOptions } from './quic-subscription.js';

interface Pending {
  resolve: () => void;
  reject: (e: ClientError) => void;
}

/** Waits for the relay's answer to the WebTransport CONNECT: streams may open only after a 200. */
async function webTransportSession(conn: QuicConnection, signal: AbortSignal): Promise<void> {
  const info =
    conn.webTransportSession ??
    (await new Promise<WebTransportSessionInfo>((resolve, reject) => {
      conn.once('session', resolve);
      conn.once('close', (c) => reject(new Error(`closed before the session opened (${c.how}: ${c.reason})`)));
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    }));
  if (info.status !== 200) {
    conn.close(0, 'session refused');
    throw new Error(`WebTransport CONNECT ${info.path} answered ${String(info.status)}`);
  }
}

export class QuicEdgeClient {
  readonly #endpoint: QuicEndpoint;
  readonly #conn: QuicConnection;
  readonly #control: QuicStream;
  readonly #opts: QuicEdgeClientOptions;
  readonly #decoder = new FrameDecoder();
  readonly #subs = new Map<number, QuicEdgeSubscription>();
  readonly #unsubs = new Map<number, Pending[]>();
  readonly #pings: Array<(rttMs: number) => void> = [];
  #pingSent: number[] = [];
  #nextId = 1;
  readonly #writer: ControlWriter;
  readonly #highWaterMark: number;
  readonly #maxBuffered: number;
  #closed = false;
  #auth: Pending | undefined;

  private constructor(endpoint: QuicEndpoint, conn: QuicConnection, opts: QuicEdgeClientOptions) {
    this.#endpoint = endpoint;
    this.#conn = conn;
    this.#opts = opts;
    this.#highWaterMark = opts.publishHighWaterMark ?? QUIC_PUBLISH_HIGH_WATER_MARK;
    this.#maxBuffered = opts.maxBufferedBytes ?? QUIC_MAX_BUFFERED_BYTES;
    this.#control = conn.openBidiStream();
    this.#control.on('data', (chunk) => this.#onControl(chunk));
    this.#writer = new ControlWriter(this.#control, this.#highWaterMark);
    conn.on('stream', (s) => this.#onStream(s));
    conn.on('datagram', (d) => this.#onDatagram(d));
    conn.on('close', (info) => {
      this.#closed = true;
      const err = new ClientError(info.reason === 'unauthorized' || info.reason === 'token_expired' || info.reason === 'token_revoked' ? 'unauthorized' : 'connect_failed', `quic connection closed (${info.how}${info.reason ? `: ${info.reason}` : ''})`, { serverCode: info.reason });
      this.#auth?.reject(err);
      for (const s of this.#subs.values()) if (!s.settled) s._reject(err);
      for (const list of this.#unsubs.values()) for (const p of list) p.reject(err);
      this.#unsubs.clear();
      this.#writer.closed(err);
      void this.#endpoint.close();
      opts.onClose?.({ code: info.code, reason: info.reason, how: info.how });
    });
  }

  /** Connects, sends AUTH and resolves once the relay answered OK. */
  static async connect(opts: QuicEdgeClientOptions): Promise<QuicEdgeClient> {
    const hwm = opts.publishHighWaterMark ?? QUIC_PUBLISH_HIGH_WATER_MARK;
    const max = opts.maxBufferedBytes ?? QUIC_MAX_BUFFERED_BYTES;
    if (!Number.isSafeInteger(hwm) || hwm < 1) throw new ClientError('bad_argument', `publishHighWaterMark: a positive integer, got ${String(hwm)}`);
    if (!Number.isSafeInteger(max) || max < hwm) throw new ClientError('bad_argument', `maxBufferedBytes: an integer >= publishHighWaterMark (${hwm}), got ${String(max)}`);
    const endpoint = new QuicEndpoint({ host: opts.host.includes(':') ? '::' : '0.0.0.0', closeTimeoutMs: 500, transport: { ...LOW_LATENCY_TRANSPORT, ...opts.transport } });
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new ClientError('timeout', `QUIC connect to ${opts.host}:${opts.port} timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => ac.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let conn: QuicConnection;
      try {
        conn = await endpoint.connect({
          host: opts.host,
          port: opts.port,
          alpn: opts.webTransportPath === undefined ? [QUIC_ALPN] : ['h3'],
          serverName: opts.serverName ?? opts.host,
          ...(opts.caPem === undefined ? {} : { caPem: opts.caPem }),
          ...(opts.webTransportPath === undefined ? {} : { webTransport: { path: opts.webTransportPath } }),
          signal: ac.signal,
        });
        if (opts.webTransportPath !== undefined) await webTransportSession(conn, ac.signal);
      } catch (err) {
        if (ac.signal.reason instanceof ClientError) throw ac.signal.reason;
        throw new ClientError('connect_failed', `QUIC connect to ${opts.host}:${opts.port} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      const client = new QuicEdgeClient(endpoint, conn, opts);
      await new Promise<void>((resolve, reject) => {
        client.#auth = { resolve, reject };
        ac.signal.addEventListener('abort', () => {
          reject(ac.signal.reason instanceof ClientError ? ac.signal.reason : new ClientError('aborted', 'aborted'));
          client.close();
        });
        client.#control.write(encodeAuth({ token: opts.token }));
      });
      client.#auth = undefined;
      return client;
    } catch (err) {
      await endpoint.close();
      throw err;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  get connection(): QuicConnection {
    return this.#conn;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Bytes of control-stream frames not yet handed to QUIC. */
  get bufferedAmount(): number {
    return this.#writer.bufferedAmount;
  }

  /**
   * Resolves once `bufferedAmount` is below `publishHighWaterMark` (at once if it is);
   * rejects with the connection's error if it closes first.
   */
  drained(): Promise<void> {
    return this.#writer.drained();
  }

  /** Resolves once every frame sent so far has been handed to QUIC, or the connection is closed. */
  written(): Promise<void> {
    return this.#writer.written();
  }

  subscribe(tenant: string, pattern: string, options: QuicSubscribeOptions = {}): QuicEdgeSubscription {
    const id = this.#nextId++;
    const sub = new QuicEdgeSubscription(id, tenant, pattern);
    this.#subs.set(id, sub);
    const flags = (options.datagram === true ? SubFlags.DATAGRAM : 0) | (options.latest === true ? SubFlags.LATEST : 0);
    this.#send(encodeSub({ id, flags, tenant, pattern }));
    return sub;
  }

  /** Sends UNSUB; resolves on the relay's OK (the subscription stream is then finished). */
  unsubscribe(sub: QuicEdgeSubscription): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#closed) return resolve();
      const list = this.#unsubs.get(sub.id) ?? [];
      list.push({ resolve, reject });
      this.#unsubs.set(sub.id, list);
      this.#send(encodeUnsub({ id: sub.id, tenant: sub.tenant, pattern: sub.pattern }));
    });
  }

  /**
   * Publishes without waiting. Frames of one tick go out in one write. With `datagram` the PUB
   * is sent as a QUIC datagram (unreliable; refused ones are dropped silently by the relay).
   *
   * Backpressure: returns false once `bufferedAmount` reaches `publishHighWaterMark` (the frame
   * is still queued; wait for `drained()` before publishing more). Throws
   * ClientError('queue_full') — nothing queued — when the frame would take `bufferedAmount`
   * past `maxBufferedBytes`. Datagram publishes are never buffered (QUIC drops the oldest).
   */
  publish(tenant: string, channel: string, data: Uint8Array, options: { mode?: PublishMode; datagram?: boolean } = {}): boolean {
    if (this.#closed) return false;
    const frame = encodePub({ mode: options.mode ?? 0, tenant, channel, data });
    if (options.datagram === true) {
      const max = this.#conn.maxDatagramSize;
      if (max !== undefined && frame.byteLength <= max) {
        this.#conn.sendDatagram(frame);
        return this.bufferedAmount < this.#highWaterMark;
      }
    }
    const buffered = this.bufferedAmount;
    if (buffered + frame.byteLength > this.#maxBuffered) {
      throw new ClientError('queue_full', `QUIC publish buffer full: ${buffered} B buffered, bound ${this.#maxBuffered} B (await drained() when publish() returns false)`);
    }
    this.#send(frame);
    return buffered + frame.byteLength < this.#highWaterMark;
  }

  /**
   * Sends a PRESENCE request; returns its request id, which the relay's OK / ERR (detail
   * `PRESENCE:{OP}:t:c`, reported through onServerError) or PRESENCE_INFO carries.
   */
  presence(op: PresenceOp, tenant: string, channel: string, args = ''): number {
    const id = this.#nextId++;
    this.#send(encodePresenceRequest({ id, op, tenant, channel, args }));
    return id;
  }

  /** Sends an already encoded frame on the control stream (tests: malformed-but-framed input). */
  publishRaw(frame: Uint8Array): void {
    this.#send(frame);
  }

  /** PING with a nonce; resolves with the round trip in ms. */
  ping(): Promise<number> {
    return new Promise((resolve) => {
      this.#pings.push(resolve);
      this.#pingSent.push(performance.now());
      this.#send(encodePing(new Uint8Array(0)));
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.flush();
    this.#conn.close(0, 'client close');
  }

  /** Resolves once the endpoint is released. */
  async closed(): Promise<void> {
    this.close();
    await this.#endpoint.close();
  }

  #send(frame: Uint8Array): void {
    if (!this.#closed) this.#writer.send(frame);
  }

  #onControl(chunk: Buffer): void {
    try {
      this.#decoder.feed(chunk, (f) => this.#onControlFrame(f));
    } catch (err) {
      this.#protocolError('control stream', err);
      this.#conn.close(QuicCloseCode.ProtocolError, 'protocol_error');
    }
  }

  #protocolError(where: string, err: unknown): void {
    const message = `${where}: ${err instanceof Error ? err.message : String(err)}`;
    this.#opts.onProtocolError?.(new ClientError('protocol', message, { cause: err }));
  }

  #onControlFrame(f: Frame): void {
    switch (f.type) {
      case FrameType.OK: {
        const ok = decodeOk(f);
        if (ok.id === 0) return this.#auth?.resolve();
        const pending = this.#unsubs.get(ok.id);
        if (pending !== undefined) {
          this.#unsubs.delete(ok.id);
          this.#subs.delete(ok.id);
          for (const p of pending) p.resolve();
          return;
        }
        this.#subs.get(ok.id)?._resolve();
        return;
      }
      case FrameType.ERR: {
        const e = decodeErr(f);
        if (e.id === 0) {
          if (this.#auth !== undefined) {
            const code = e.code === 'forbidden' ? 'forbidden' : e.code === 'internal' ? 'connect_failed' : 'unauthorized';
            return this.#auth.reject(new ClientError(code, `relay refused AUTH: ${e.code}${e.detail ? ` (${e.detail})` : ''}`, { serverCode: e.code, detail: e.detail }));
          }
          if (e.code === QUIC_RECONNECT_CODE) return this.#opts.onReconnectRequested?.();
          return this.#opts.onServerError?.(e.code, e.detail);
        }
        const sub = this.#subs.get(e.id);
        if (sub === undefined) return this.#opts.onServerError?.(e.code, e.detail);
        if (!sub.settled) {
          this.#subs.delete(e.id);
          return sub._reject(new ClientError('server', `SUB ${sub.tenant}:${sub.pattern} refused: ${e.code}`, { serverCode: e.code, detail: e.detail }));
        }
        // A later ERR for a live subscription: it has ended (e.g. slow_consumer under 'reset').
        this.#subs.delete(e.id);
        return sub.onEnd({ code: undefined, serverCode: e.code });
      }
      case FrameType.PONG: {
        decodePong(f);
        const resolve = this.#pings.shift();
        const sent = this.#pingSent.shift();
        if (resolve !== undefined && sent !== undefined) resolve(performance.now() - sent);
        return;
      }
      case FrameType.PRESENCE_INFO:
        return this.#opts.onPresence?.(decodePresenceInfo(f));
      case FrameType.PING:
        return; // the relay does not ping over the control stream; QUIC keep-alives do
      default:
        return; // other types do not travel S→C on the control stream; ignore
    }
  }

  #onStream(s: QuicStream): void {
    if (s.direction !== 'uni') return;
    const decoder = new FrameDecoder();
    let sub: QuicEdgeSubscription | undefined;
    s.on('data', (chunk) => {
      try {
        decoder.feed(chunk, (f) => {
          if (sub === undefined) {
            if (f.type !== FrameType.OK) throw new Error('subscription stream must start with OK');
            sub = this.#subs.get(decodeOk(f).id);
            if (sub === undefined) return s.stopSending(0);
            sub.stream = s;
            return;
          }
          if (f.type === FrameType.MSG) {
            const m = decodeMsg(f);
            sub.onMessage({ channel: m.channel, data: m.data, datagram: false });
          } else if (f.type === FrameType.OK) {
            const n = parseSupersededNotice(decodeOk(f).topic);
            if (n !== undefined) sub.onSuperseded(n);
          }
        });
      } catch (err) {
        this.#protocolError(`subscription stream${sub === undefined ? '' : ` ${sub.tenant}:${sub.pattern}`}`, err);
        try {
          s.stopSending(0);
        } catch {
          // gone
        }
      }
    });
    s.on('reset', (code) => sub?.onEnd({ code }));
  }

  #onDatagram(d: Buffer): void {
    try {
      const f = decodeFrame(d);
      if (f.type !== FrameType.DMSG) return;
      const m = decodeDmsg(f);
      this.#subs.get(m.id)?.onMessage({ channel: m.channel, data: m.data, datagram: true });
    } catch (err) {
      this.#protocolError('datagram', err); // and dropped
    }
  }
}
