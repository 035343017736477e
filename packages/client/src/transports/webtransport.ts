// WebTransport transport (browsers): the QUIC edge protocol (spec/protocol.md §3) carried by
// WebTransport at the relay's path (GET /v1/webtransport names the UDP port, the path and the
// certificate hashes of a development certificate). One control stream (AUTH, SUB, UNSUB, PUB,
// PING), one unidirectional stream per subscription — so a stalled subscription never delays
// another — and DMSG datagrams for datagram subscriptions.
import { Deframer, T, auth, errOf, parseDatagram, ping, pub, readU32, sub as subFrame, unsub, type WtFrame } from './wt-frames.js';
import { ClientError, abortError } from '../errors.js';
import type { DeliveryMode, OpenParams, Transport, TransportConnection, TransportEvents } from '../transport.js';

type Bytes = Uint8Array;
interface StreamPair {
  readable: ReadableStream<Bytes>;
  writable: WritableStream<Bytes>;
}
/** The part of the browser's WebTransport the SDK uses. */
export interface WebTransportLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<{ closeCode?: number; reason?: string }>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Bytes>>;
  readonly datagrams: { readable: ReadableStream<Bytes> };
  createBidirectionalStream(): Promise<StreamPair>;
  close(info?: { closeCode?: number; reason?: string }): void;
}
export type WebTransportConstructor = new (url: string, options?: { serverCertificateHashes?: { algorithm: string; value: Bytes }[] }) => WebTransportLike;

/** What GET /v1/webtransport answers. */
export interface WebTransportInfo {
  enabled: boolean;
  port: number | null;
  path: string;
  serverCertificateHashes: { algorithm: string; value: string }[];
}

export interface WebTransportConfig {
  /** Default: the global WebTransport. */
  impl?: WebTransportConstructor;
  /** Ask for datagram delivery on every subscription ("latest matters"). */
  datagramSubscriptions?: boolean;
}

const MODE: Record<DeliveryMode, 0 | 1 | 2> = { broadcast: 0, 'one-low-latency': 1, 'one-random': 2 };
// Close codes the relay uses (packages/wire QuicCloseCode): 1 unauthorized, 2 token revoked.
const AUTH_CLOSE_CODES = new Set([1, 2]);

async function readAll<T>(stream: ReadableStream<T>, onChunk: (b: T) => void): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onChunk(value);
  }
}

class WtConnection implements TransportConnection {
  readonly transport = 'webtransport' as const;
  readonly #wt: WebTransportLike;
  readonly #events: TransportEvents;
  readonly #writer: WritableStreamDefaultWriter<Bytes>;
  readonly #datagram: boolean;
  /** Live subscriptions by id, and ids by `tenant\0pattern`. */
  readonly #subs = new Map<number, { tenant: string; pattern: string }>();
  readonly #ids = new Map<string, number>();
  #nextId = 1;
  #pending = 0;
  #closedByUs = false;
  #finished = false;

  constructor(wt: WebTransportLike, control: StreamPair, events: TransportEvents, datagram: boolean) {
    this.#wt = wt;
    this.#events = events;
    this.#writer = control.writable.getWriter();
    this.#datagram = datagram;
  }

  get bufferedAmount(): number {
    return this.#pending;
  }

  send(frame: Bytes): void {
    if (this.#finished) return;
    this.#pending += frame.byteLength;
    this.#writer.write(frame).then(
      () => (this.#pending -= frame.byteLength),
      () => undefined,
    );
  }

  /** A control-stream frame after AUTH's OK. */
  onControl(f: WtFrame): void {
    if (f.type === T.PONG) return this.#events.onPong();
    if (f.type === T.OK) {
      const id = readU32(f.payload, 0);
      const topic = f.topic;
      const sub = this.#subs.get(id);
      if (sub === undefined) return;
      if (this.#ids.get(`${sub.tenant}\0${sub.pattern}`) === id) return this.#events.onSubscribed(sub.tenant, topic);
      this.#subs.delete(id);
      return this.#events.onUnsubscribed(sub.tenant, topic);
    }
    if (f.type === T.ERR) {
      const e = errOf(f);
      if (e.id === 0 && e.code === 'reconnect') return this.#events.onReconnectRequested();
      const sub = this.#subs.get(e.id);
      if (sub !== undefined) {
        this.#subs.delete(e.id);
        this.#ids.delete(`${sub.tenant}\0${sub.pattern}`);
      }
      this.#events.onServerError(e.code, sub === undefined ? e.detail || undefined : `SUB:${sub.tenant}:${sub.pattern}`);
    }
  }

  /** A subscription stream: OK(id) binds it, then MSG frames. */
  async onSubscriptionStream(stream: ReadableStream<Bytes>): Promise<void> {
    const decoder = new Deframer();
    let sub: { tenant: string; pattern: string } | undefined;
    await readAll(stream, (chunk) =>
      decoder.feed(chunk, (f) => {
        if (sub === undefined) {
          sub = f.type === T.OK ? this.#subs.get(readU32(f.payload, 0)) : undefined;
          if (sub === undefined) throw new ClientError('protocol', 'subscription stream without a known OK');
          return;
        }
        if (f.type === T.MSG) this.#events.onDelivery({ tenant: sub.tenant, channel: f.topic, payload: f.payload, patterns: [sub.pattern] });
      }),
    );
  }

  onDatagram(d: Bytes): void {
    const f = parseDatagram(d);
    if (f.type !== T.DMSG) return;
    const sub = this.#subs.get(readU32(f.payload, 0));
    if (sub !== undefined) this.#events.onDelivery({ tenant: sub.tenant, channel: f.topic, payload: f.payload.subarray(4), patterns: [sub.pattern] });
  }

  subscribe(tenant: string, pattern: string): void {
    const key = `${tenant}\0${pattern}`;
    if (this.#ids.has(key)) return this.#events.onSubscribed(tenant, pattern);
    const id = this.#nextId++;
    this.#subs.set(id, { tenant, pattern });
    this.#ids.set(key, id);
    this.send(subFrame(id, tenant, pattern, this.#datagram ? 1 : 0));
  }

  unsubscribe(tenant: string, pattern: string): void {
    const key = `${tenant}\0${pattern}`;
    const id = this.#ids.get(key);
    if (id === undefined) return this.#events.onUnsubscribed(tenant, pattern);
    this.#ids.delete(key);
    this.send(unsub(id, tenant, pattern));
  }

  publish(tenant: string, channel: string, payload: Bytes, mode: DeliveryMode): void {
    this.send(pub(MODE[mode], tenant, channel, payload));
  }

  ping(): void {
    this.send(ping());
  }

  close(): void {
    if (this.#closedByUs) return;
    this.#closedByUs = true;
    try {
      this.#wt.close({ closeCode: 0, reason: '' });
    } catch {
      // already closed
    }
  }

  /** The session ended (closed by either side, or lost). */
  finish(info: { closeCode?: number; reason?: string } | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#closedByUs) return this.#events.onClose(undefined);
    const reason = info?.reason ?? '';
    const code = AUTH_CLOSE_CODES.has(info?.closeCode ?? -1) ? 'unauthorized' : 'connect_failed';
    this.#events.onClose(new ClientError(code, `WebTransport session closed${reason ? ` (${reason})` : ''}`, reason ? { serverCode: reason } : undefined));
  }
}

function fromBase64(s: string): Bytes {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/** GET /v1/webtransport on the edge. */
export async function webTransportInfo(httpUrl: string, signal?: AbortSignal): Promise<WebTransportInfo> {
  const res = await fetch(new URL('/v1/webtransport', httpUrl), signal === undefined ? {} : { signal });
  if (!res.ok) throw new ClientError('connect_failed', `GET /v1/webtransport answered ${res.status}`);
  return (await res.json()) as WebTransportInfo;
}

async function openSession(params: OpenParams, cfg: WebTransportConfig, Impl: WebTransportConstructor, stop: AbortSignal): Promise<TransportConnection> {
  const { edge, token, events } = params;
  const info = await webTransportInfo(edge.httpUrl, stop);
  if (!info.enabled || info.port === null) throw new ClientError('connect_failed', `edge ${edge.httpUrl} serves no WebTransport`);
  const hashes = info.serverCertificateHashes.map((h) => ({ algorithm: h.algorithm, value: fromBase64(h.value) }));
  const host = new URL(edge.httpUrl).hostname;
  const wt = new Impl(`https://${host}:${info.port}${info.path}`, hashes.length > 0 ? { serverCertificateHashes: hashes } : {});
  stop.addEventListener('abort', () => wt.close(), { once: true });
  await wt.ready;
  const control = await wt.createBidirectionalStream();
  const conn = new WtConnection(wt, control, events, cfg.datagramSubscriptions === true);
  const authed = new Promise<void>((resolve, reject) => {
    const decoder = new Deframer();
    let open = false;
    readAll(control.readable, (chunk) =>
      decoder.feed(chunk, (f) => {
        if (open) return conn.onControl(f);
        if (f.type === T.OK) {
          open = true;
          return resolve();
        }
        const code = f.type === T.ERR ? errOf(f).code : 'protocol';
        reject(new ClientError(code === 'forbidden' ? 'forbidden' : code === 'protocol' ? 'protocol' : 'unauthorized', `edge refused AUTH: ${code}`, { serverCode: code }));
      }),
    ).catch((err: unknown) => (open ? events.onServerError('protocol', String(err)) : reject(err)));
    wt.closed.then(
      (i) => (open ? conn.finish(i) : reject(new ClientError(AUTH_CLOSE_CODES.has(i.closeCode ?? -1) ? 'unauthorized' : 'connect_failed', `session closed: ${i.reason ?? ''}`))),
      (err: unknown) => (open ? conn.finish(undefined) : reject(new ClientError('connect_failed', String(err)))),
    );
  });
  conn.send(auth(token));
  await authed;
  void readAll(wt.incomingUnidirectionalStreams, (s) => void conn.onSubscriptionStream(s).catch(() => undefined)).catch(() => undefined);
  void readAll(wt.datagrams.readable, (d) => {
    try {
      conn.onDatagram(d);
    } catch {
      // a malformed datagram is dropped
    }
  }).catch(() => undefined);
  return conn;
}

/** The WebTransport transport; `transport: 'webtransport'` in connect() uses it. */
export function webTransportTransport(cfg: WebTransportConfig = {}): Transport {
  return {
    name: 'webtransport',
    async open(params: OpenParams): Promise<TransportConnection> {
      const Impl = cfg.impl ?? (globalThis as { WebTransport?: WebTransportConstructor }).WebTransport;
      if (Impl === undefined) throw new ClientError('connect_failed', 'this browser has no WebTransport');
      if (params.signal?.aborted) throw abortError(params.signal);
      const stop = new AbortController();
      const onAbort = (): void => stop.abort();
      params.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => stop.abort(), params.timeoutMs);
      try {
        return await openSession(params, cfg, Impl, stop.signal);
      } catch (err) {
        stop.abort();
        if (params.signal?.aborted) throw abortError(params.signal);
        if (err instanceof ClientError) throw err;
        throw new ClientError('connect_failed', `WebTransport to ${params.edge.httpUrl} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      } finally {
        clearTimeout(timer);
        params.signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
