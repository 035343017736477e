// WebSocket transport, contract v0.1: subprotocol `llps.v1,at.<token>`, binary publish and
// delivery frames, text SUB/UNSUB/PING. Browser-safe: it uses whatever WebSocket constructor it
// is given (the global one in browsers; `ws` in Node through @fastpubsub/client/node).
import { decodeDelivery, encodePublish, formatMeshReadyRequest, formatSub, formatUnsub, parseMeshReady, parseServerText, parseSuperseded, PING } from '@fastpubsub/wire';
import { ClientError, abortError } from '../errors.js';
import type { DeliveryMode, OpenParams, SubscribeWireOptions, Transport, TransportConnection, TransportEvents } from '../transport.js';

/** The part of the WebSocket API the SDK uses; both the browser's and `ws`'s fit. */
export interface WebSocketLike {
  binaryType: string;
  readonly protocol: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  /** `ws` (Node) calls `written` once the frame is handed to the socket; browsers take no callback. */
  send(data: string | Uint8Array, written?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: WebSocketEventLike) => void): void;
}

/** Fields of the open/message/error/close events the SDK reads. */
export interface WebSocketEventLike {
  data?: unknown;
  code?: number;
  reason?: string;
  message?: string;
  error?: unknown;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export const SUBPROTOCOL = 'llps.v1';
const OPEN = 1;
const MODE: Record<DeliveryMode, 0 | 1 | 2 | undefined> = { broadcast: undefined, 'one-low-latency': 1, 'one-random': 2 };

function statusOf(event: WebSocketEventLike): number | undefined {
  // `ws` reports a refused upgrade as "Unexpected server response: 401"; browsers say nothing.
  const text = event.message ?? (event.error instanceof Error ? event.error.message : '');
  const m = /Unexpected server response: (\d{3})/.exec(text);
  return m === null ? undefined : Number(m[1]);
}

function openError(event: WebSocketEventLike, url: string): ClientError {
  const status = statusOf(event);
  if (status === 401) return new ClientError('unauthorized', `edge ${url} refused the token (401)`, { status });
  if (status === 403) return new ClientError('forbidden', `edge ${url} denied the connection (403)`, { status });
  const text = event.message ?? (event.error instanceof Error ? event.error.message : undefined);
  const options = status === undefined ? undefined : { status };
  return new ClientError('connect_failed', `cannot open ${url}${text ? `: ${text}` : ''}`, options);
}

class WsConnection implements TransportConnection {
  private closed = false;
  /**
   * The browser's WebSocket has no write-completion event, so there flush() can only watch
   * `bufferedAmount`; `ws` (an EventEmitter, hence `on`) calls each send's callback once the
   * frame is written, which lets drained() wait on events instead.
   */
  private readonly writeCallbacks: boolean;
  private unwritten = 0;
  private drainWaiters: (() => void)[] = [];
  private readonly onWritten = (): void => {
    if (--this.unwritten === 0) this.settleDrained();
  };

  constructor(
    private readonly socket: WebSocketLike,
    private readonly events: TransportEvents,
  ) {
    this.writeCallbacks = typeof (socket as { on?: unknown }).on === 'function';
  }

  /** Wires the message and close handlers; called once the socket is open. */
  attach(): void {
    this.socket.addEventListener('message', (e) => this.onMessage(e.data));
    this.socket.addEventListener('close', (e) => this.finish(e.code === 1000 && this.closed ? undefined : closeError(e)));
    this.socket.addEventListener('error', (e) => this.finish(openError(e, 'connection')));
  }

  private onMessage(data: unknown): void {
    if (typeof data === 'string') {
      const ready = parseMeshReady(data);
      if (ready !== undefined) return this.events.onMeshReady?.(ready.tenant, ready.pattern, ready.complete);
      if (data.startsWith('PRESENCE:') || data.startsWith('OK:PRESENCE:')) return this.events.onPresence?.(data);
      const superseded = parseSuperseded(data);
      if (superseded !== undefined) return this.events.onSuperseded?.(superseded.tenant, superseded.pattern, superseded.count);
      const t = parseServerText(data);
      switch (t.kind) {
        case 'OK':
          if (t.op === 'SUB') this.events.onSubscribed(t.tenant, t.pattern);
          else this.events.onUnsubscribed(t.tenant, t.pattern);
          return;
        case 'PONG':
          return this.events.onPong();
        case 'ERR':
          return this.events.onServerError(t.code, t.detail);
        case 'RECONNECT':
          return this.events.onReconnectRequested();
        case 'unknown':
          return; // contract §4: other server text is ignored
        default: {
          const never: never = t;
          return never;
        }
      }
    }
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else return;
    let d;
    try {
      d = decodeDelivery(bytes);
    } catch {
      return; // contract §3: the client drops a malformed frame
    }
    this.events.onDelivery(d);
  }

  private finish(error: ClientError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.closed = true;
    this.settleDrained();
    this.events.onClose(error);
  }

  private settleDrained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private send(data: string | Uint8Array): void {
    if (!this.writeCallbacks) return this.socket.send(data);
    this.unwritten++;
    this.socket.send(data, this.onWritten);
  }

  private done = false;

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  drained(): Promise<void> | undefined {
    if (this.closed || (this.unwritten === 0 && this.socket.bufferedAmount === 0)) return Promise.resolve();
    if (!this.writeCallbacks) return undefined;
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private sendText(text: string): void {
    if (!this.closed && this.socket.readyState === OPEN) this.send(text);
  }

  subscribe(tenant: string, pattern: string, options: SubscribeWireOptions = {}): void {
    this.sendText(formatSub(tenant, pattern, options));
  }

  presence(line: string): void {
    this.sendText(line);
  }

  unsubscribe(tenant: string, pattern: string): void {
    this.sendText(formatUnsub(tenant, pattern));
  }

  ping(): void {
    this.sendText(PING);
  }

  meshReady(tenant: string, pattern: string): void {
    this.sendText(formatMeshReadyRequest(tenant, pattern));
  }

  publish(tenant: string, channel: string, payload: Uint8Array, mode: DeliveryMode): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    const m = MODE[mode];
    this.send(encodePublish(m === undefined ? { tenant, channel, payload } : { tenant, channel, payload, mode: m }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close(1000, 'client close');
    } catch {
      // already closing
    }
    // Report at once: a half-dead peer may never complete the close handshake.
    this.finish(undefined);
  }
}

function closeError(e: WebSocketEventLike): ClientError {
  const code = e.code ?? 1006;
  return new ClientError('connect_failed', `connection closed (${code}${e.reason ? ` ${e.reason}` : ''})`);
}

/** The WebSocket transport over a given WebSocket constructor. */
export function webSocketTransport(WebSocketImpl: WebSocketConstructor): Transport {
  return {
    name: 'ws',
    open(params: OpenParams): Promise<TransportConnection> {
      const { edge, token, events, signal, timeoutMs } = params;
      if (signal?.aborted) return Promise.reject(abortError(signal));
      return new Promise<TransportConnection>((resolve, reject) => {
        let socket: WebSocketLike;
        try {
          socket = new WebSocketImpl(edge.wsUrl, [SUBPROTOCOL, `at.${token}`]);
        } catch (err) {
          reject(new ClientError('connect_failed', `cannot open ${edge.wsUrl}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
          return;
        }
        socket.binaryType = 'arraybuffer';
        let settled = false;
        const settle = (err: ClientError | undefined): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (err === undefined) {
            const conn = new WsConnection(socket, events);
            conn.attach();
            resolve(conn);
            return;
          }
          try {
            socket.close();
          } catch {
            // not open yet
          }
          reject(err);
        };
        const onAbort = (): void => settle(abortError(signal));
        const timer = setTimeout(() => settle(new ClientError('timeout', `opening ${edge.wsUrl} timed out after ${timeoutMs} ms`)), timeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        socket.addEventListener('open', () => {
          if (socket.protocol !== SUBPROTOCOL) {
            settle(new ClientError('protocol', `edge ${edge.wsUrl} answered subprotocol ${JSON.stringify(socket.protocol)}, expected ${SUBPROTOCOL}`));
          } else settle(undefined);
        });
        socket.addEventListener('error', (e) => settle(openError(e, edge.wsUrl)));
        socket.addEventListener('close', (e) => settle(closeError(e)));
      });
    },
  };
}
