// Connect options and their defaults, in one place, with units.
import { realClock, type Clock } from './clock.js';
import { ClientError } from './errors.js';
import type { Transport } from './transport.js';
import type { WebSocketConstructor } from './transports/ws.js';
import type { OverflowPolicy } from './subscription.js';

export type QueuePolicy = 'drop-oldest' | 'drop-newest' | 'error';

/** Why the SDK asks for a token. */
export type TokenReason = 'initial' | 'expiring' | 'expired' | 'unauthorized';

/** A token, optionally with its expiry (Date, epoch ms or an RFC 3339 string). */
export type TokenResult = string | { token: string; expiresAt?: Date | number | string };

export type TokenProvider = (context: { reason: TokenReason; signal: AbortSignal }) => Promise<TokenResult>;

export interface ReconnectOptions {
  /** Reconnect after a loss (default true). */
  enabled?: boolean;
  /** Backoff base (default 250 ms); attempt n waits random(0, min(max, base·2ⁿ⁻¹)) — full jitter. */
  baseDelayMs?: number;
  /** Backoff cap (default 10 000 ms). */
  maxDelayMs?: number;
  /** Give up (client closes with the last error) after this many failed attempts (default Infinity). */
  maxAttempts?: number;
  /** How long an old connection is still read after a switch (default 5000 ms, contract §6). */
  overlapMs?: number;
}

export interface ConnectOptions {
  /** One edge: `https://host`, `http://127.0.0.1:7700`, `wss://host/ws` or bare `host[:port]`. */
  endpoint?: string;
  /**
   * Candidate edges (array): the SDK probes each `GET /ping` in parallel and uses the fastest.
   * A single string is a discovery URL returning `{"edges":[…]}` (contract §8).
   */
  bootstrap?: string | string[];
  token?: string;
  /** Expiry of `token`, if known, so the provider is asked for a new one in time. */
  tokenExpiresAt?: Date | number | string;
  tokenProvider?: TokenProvider;
  /** Ask for a new token this long before expiry (default 30 000 ms, at most half the remaining lifetime). */
  tokenRefreshMarginMs?: number;
  /**
   * 'ws' / 'websocket' (default); 'webtransport' (browsers: the QUIC edge protocol over
   * WebTransport, docs/webtransport.md); 'auto' (WebTransport, falling back to WebSocket when
   * it is missing or blocked); or a Transport object. `client.transport` names the one in use.
   */
  transport?: 'ws' | 'websocket' | 'webtransport' | 'auto' | 'quic' | Transport;
  /** WebTransport ('webtransport', 'auto'): ask for datagram delivery on every subscription ("latest matters"). */
  webTransport?: { datagramSubscriptions?: boolean };
  /** WebSocket constructor; defaults to the global WebSocket (browsers). `@fastpubsub/client/node` passes `ws`. */
  webSocketImpl?: WebSocketConstructor;
  signal?: AbortSignal;
  reconnect?: ReconnectOptions;
  publishQueue?: { maxMessages?: number; policy?: QueuePolicy };
  /** RTT probe: PING every `intervalMs` (default 5000), connection lost after `timeoutMs` without PONG (default 10 000). `false` disables. */
  ping?: { intervalMs?: number; timeoutMs?: number } | false;
  /** Bound on opening a connection (default 10 000 ms). */
  openTimeoutMs?: number;
  /** Bound on getting every OK:SUB on a new connection (default 10 000 ms). */
  resubscribeTimeoutMs?: number;
  /** Default buffer for subscriptions (overridable per subscribe). */
  subscriptionBuffer?: { size?: number; overflow?: OverflowPolicy };
  /** Time source for backoff, heartbeat, token refresh and overlap timers (tests pass a fake clock). */
  clock?: Clock;
}

export interface ResolvedOptions {
  reconnect: Required<ReconnectOptions>;
  queue: { maxMessages: number; policy: QueuePolicy };
  ping: { intervalMs: number; timeoutMs: number } | false;
  openTimeoutMs: number;
  resubscribeTimeoutMs: number;
  tokenRefreshMarginMs: number;
  subscriptionBuffer: { size: number; overflow: OverflowPolicy };
  clock: Clock;
}

export const DEFAULTS: ResolvedOptions = {
  reconnect: { enabled: true, baseDelayMs: 250, maxDelayMs: 10_000, maxAttempts: Infinity, overlapMs: 5000 },
  queue: { maxMessages: 1000, policy: 'drop-oldest' },
  ping: { intervalMs: 5000, timeoutMs: 10_000 },
  openTimeoutMs: 10_000,
  resubscribeTimeoutMs: 10_000,
  tokenRefreshMarginMs: 30_000,
  subscriptionBuffer: { size: 1024, overflow: 'drop-oldest' },
  clock: realClock,
};

function nonNegative(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) throw new ClientError('bad_argument', `${name} must be a number ≥ 0, got ${String(v)}`);
  return v;
}

export function resolveOptions(o: ConnectOptions): ResolvedOptions {
  const d = DEFAULTS;
  const r = o.reconnect ?? {};
  const q = o.publishQueue ?? {};
  const policy = q.policy ?? d.queue.policy;
  if (!['drop-oldest', 'drop-newest', 'error'].includes(policy)) throw new ClientError('bad_argument', `publishQueue.policy must be drop-oldest, drop-newest or error`);
  const ping = o.ping === false ? false : {
    intervalMs: nonNegative('ping.intervalMs', o.ping?.intervalMs, (d.ping as { intervalMs: number }).intervalMs),
    timeoutMs: nonNegative('ping.timeoutMs', o.ping?.timeoutMs, (d.ping as { timeoutMs: number }).timeoutMs),
  };
  return {
    reconnect: {
      enabled: r.enabled ?? d.reconnect.enabled,
      baseDelayMs: nonNegative('reconnect.baseDelayMs', r.baseDelayMs, d.reconnect.baseDelayMs),
      maxDelayMs: nonNegative('reconnect.maxDelayMs', r.maxDelayMs, d.reconnect.maxDelayMs),
      maxAttempts: nonNegative('reconnect.maxAttempts', r.maxAttempts, d.reconnect.maxAttempts),
      overlapMs: nonNegative('reconnect.overlapMs', r.overlapMs, d.reconnect.overlapMs),
    },
    queue: { maxMessages: nonNegative('publishQueue.maxMessages', q.maxMessages, d.queue.maxMessages), policy },
    ping,
    openTimeoutMs: nonNegative('openTimeoutMs', o.openTimeoutMs, d.openTimeoutMs),
    resubscribeTimeoutMs: nonNegative('resubscribeTimeoutMs', o.resubscribeTimeoutMs, d.resubscribeTimeoutMs),
    tokenRefreshMarginMs: nonNegative('tokenRefreshMarginMs', o.tokenRefreshMarginMs, d.tokenRefreshMarginMs),
    subscriptionBuffer: {
      size: nonNegative('subscriptionBuffer.size', o.subscriptionBuffer?.size, d.subscriptionBuffer.size),
      overflow: o.subscriptionBuffer?.overflow ?? d.subscriptionBuffer.overflow,
    },
    clock: o.clock ?? d.clock,
  };
}

/** Full-jitter backoff: a uniform delay in [0, min(max, base·2^(attempt−1))]. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.floor(random() * cap);
}

export function toEpochMs(v: Date | number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
}
