// The SDK's QUIC transport: the Transport seam over QuicEdgeClient. Each SDK subscription is one
// QUIC subscription stream; its deliveries carry that subscription's pattern (one per stream,
// where the WebSocket edge lists every matching pattern in one frame). Node only.
import { ClientError, abortError } from '../errors.js';
import type { DeliveryMode, OpenParams, SubscribeWireOptions, Transport, TransportConnection, TransportEvents } from '../transport.js';
import { QuicEdgeClient, type QuicEdgeSubscription } from './quic-client.js';
import { lineOfPresenceInfo, presenceRequestOfLine } from './quic-presence.js';

export interface QuicTransportConfig {
  /** QUIC port of every edge; default: the edge's HTTP port + 1 (the relay's default). */
  port?: number;
  /** CA to trust for the relay certificate (e.g. Relay.quicCaPem); default: system roots. */
  caPem?: string;
  /** Certificate name to check; default: the edge host. */
  serverName?: string;
  /** Ask for datagram delivery on every subscription ("latest matters"). */
  datagramSubscriptions?: boolean;
  /** Send every publish as a datagram when it fits (unreliable). */
  datagramPublish?: boolean;
}

const MODE: Record<DeliveryMode, 0 | 1 | 2> = { broadcast: 0, 'one-low-latency': 1, 'one-random': 2 };

class QuicTransportConnection implements TransportConnection {
  readonly #q: QuicEdgeClient;
  readonly #events: TransportEvents;
  readonly #cfg: QuicTransportConfig;
  readonly #subs = new Map<string, QuicEdgeSubscription>();
  #closedByUs = false;

  constructor(q: QuicEdgeClient, events: TransportEvents, cfg: QuicTransportConfig) {
    this.#q = q;
    this.#events = events;
    this.#cfg = cfg;
  }

  onClose(reason: string): void {
    if (this.#closedByUs) return this.#events.onClose(undefined);
    const code = reason === 'token_revoked' || reason === 'token_expired' || reason === 'unauthorized' ? 'unauthorized' : 'connect_failed';
    this.#events.onClose(new ClientError(code, `QUIC connection closed${reason ? ` (${reason})` : ''}`, { serverCode: reason }));
  }

  get bufferedAmount(): number {
    return this.#q.bufferedAmount;
  }

  drained(): Promise<void> {
    return this.#q.written();
  }

  subscribe(tenant: string, pattern: string, options: SubscribeWireOptions = {}): void {
    const key = `${tenant}:${pattern}`;
    if (this.#subs.has(key)) return this.#events.onSubscribed(tenant, pattern);
    const datagram = this.#cfg.datagramSubscriptions === true;
    const sub = this.#q.subscribe(tenant, pattern, { datagram, latest: options.latest === true });
    this.#subs.set(key, sub);
    sub.onMessage = (m) => this.#events.onDelivery({ tenant, channel: m.channel, payload: m.data, patterns: [pattern] });
    sub.onSuperseded = (n) => this.#events.onSuperseded?.(tenant, pattern, n);
    sub.onEnd = (info) => {
      if (this.#subs.get(key) === sub) this.#subs.delete(key);
      this.#events.onServerError(info.serverCode ?? 'slow_consumer', `SUB:${tenant}:${pattern}`);
    };
    sub.ready.then(
      () => this.#events.onSubscribed(tenant, pattern),
      (err: unknown) => {
        if (this.#subs.get(key) === sub) this.#subs.delete(key);
        const e = err as ClientError;
        if (e.code === 'server') this.#events.onServerError(e.serverCode ?? 'server', e.detail ?? `SUB:${tenant}:${pattern}`);
      },
    );
  }

  unsubscribe(tenant: string, pattern: string): void {
    const key = `${tenant}:${pattern}`;
    const sub = this.#subs.get(key);
    if (sub === undefined) return this.#events.onUnsubscribed(tenant, pattern);
    this.#subs.delete(key);
    this.#q.unsubscribe(sub).then(
      () => this.#events.onUnsubscribed(tenant, pattern),
      () => undefined,
    );
  }

  publish(tenant: string, channel: string, payload: Uint8Array, mode: DeliveryMode): void {
    this.#q.publish(tenant, channel, payload, { mode: MODE[mode], datagram: this.#cfg.datagramPublish === true });
  }

  /** A line of the presence extension, sent as a PRESENCE frame. */
  presence(line: string): void {
    const req = presenceRequestOfLine(line);
    if (req !== undefined) this.#q.presence(req.op, req.tenant, req.channel, req.args);
  }

  ping(): void {
    this.#q.ping().then(
      () => this.#events.onPong(),
      () => undefined,
    );
  }

  close(): void {
    if (this.#closedByUs) return;
    this.#closedByUs = true;
    this.#q.close();
  }
}

/** The QUIC transport; pass it as `transport` or use connect() from @fastpubsub/client/quic. */
export function quicTransport(config: QuicTransportConfig = {}): Transport {
  return {
    name: 'quic',
    async open(params: OpenParams): Promise<TransportConnection> {
      const { edge, token, events, signal, timeoutMs } = params;
      if (signal?.aborted) throw abortError(signal);
      const url = new URL(edge.httpUrl);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const httpPort = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
      // The close callback is wired before the connection object exists.
      const holder: { conn?: QuicTransportConnection } = {};
      const q = await QuicEdgeClient.connect({
        host,
        port: config.port ?? httpPort + 1,
        token,
        timeoutMs,
        ...(config.caPem === undefined ? {} : { caPem: config.caPem }),
        ...(config.serverName === undefined ? {} : { serverName: config.serverName }),
        ...(signal === undefined ? {} : { signal }),
        onServerError: (code, detail) => events.onServerError(code, detail === '' ? undefined : detail),
        onReconnectRequested: () => events.onReconnectRequested(),
        onPresence: (info) => events.onPresence?.(lineOfPresenceInfo(info)),
        onProtocolError: (err) => events.onServerError('protocol', err.message),
        onClose: (info) => holder.conn?.onClose(info.reason),
      });
      holder.conn = new QuicTransportConnection(q, events, config);
      return holder.conn;
    },
  };
}
