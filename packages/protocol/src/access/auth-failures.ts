// Failed authentication: counted by edge and reason, logged with the token id (never the
// secret), and throttled per client IP with exponential backoff. An IP that fails
// `authFailuresPerIp` times without a pause is refused for 1 s, then 2 s, 4 s … up to 60 s
// (REST: 429 with Retry-After; WebSocket: the upgrade is refused with 429; QUIC: ERR
// rate_limited and close) — before its credentials are even looked at, so guessing costs the
// relay almost nothing. An IP quiet for FORGET_AFTER_MS starts over.
// Shared by the relay's edges and the control plane's REST API (the same rule everywhere).
import { ErrorCode, isFpsError, type Logger } from '@fastpubsub/core';
import { parseAccessToken } from './token.js';

/** Where failures are counted (a RefusalCounters on a relay's /metrics). */
export interface FailureCounter {
  inc(labels: Record<string, string>): void;
}

const FIRST_BLOCK_MS = 1000;
const MAX_BLOCK_MS = 60_000;
const FORGET_AFTER_MS = 5 * 60_000;
/** Tracked IPs; past this the ones that are not blocked are forgotten first. */
const MAX_TRACKED = 100_000;

interface IpState {
  failures: number;
  lastFailureMs: number;
  blockedUntilMs: number;
  nextBlockMs: number;
}

/** Codes that mean "these credentials are not good", as opposed to load or server errors. */
const AUTH_FAILURE_CODES = new Set<string>([ErrorCode.Unauthorized, ErrorCode.TokenExpired, ErrorCode.TokenRevoked, ErrorCode.Forbidden]);

/** True for errors that mean the credentials were refused (not load or server trouble). */
export function isAuthFailure(err: unknown): err is { code: string } {
  return isFpsError(err) && AUTH_FAILURE_CODES.has(err.code);
}

export class AuthFailureThrottle {
  readonly #limit: number;
  readonly #ips = new Map<string, IpState>();
  readonly #counters: FailureCounter | undefined;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(opts: { failuresPerIp: number; counters?: FailureCounter; logger: Logger; now?: () => number }) {
    this.#limit = opts.failuresPerIp;
    this.#counters = opts.counters;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
  }

  /** Seconds the IP must wait, or 0 when it may try. A refused try is counted as `throttled`. */
  retryAfterSeconds(ip: string, edge: string): number {
    const st = this.#ips.get(ip);
    const now = this.#now();
    if (st === undefined || now >= st.blockedUntilMs) return 0;
    this.#counters?.inc({ edge, reason: 'throttled' });
    return Math.max(1, Math.ceil((st.blockedUntilMs - now) / 1000));
  }

  /** One failed authentication from `ip`: counted, logged, and maybe the start of a block. */
  failed(ip: string, edge: string, reason: string, token: string | undefined): void {
    const now = this.#now();
    this.#counters?.inc({ edge, reason });
    this.#logger.warn('authentication failed', { edge, reason, ip, tokenId: tokenIdForLog(token) });
    let st = this.#ips.get(ip);
    if (st !== undefined && now - st.lastFailureMs > FORGET_AFTER_MS) st = undefined;
    if (st === undefined) {
      if (this.#ips.size >= MAX_TRACKED) this.#sweep(now);
      st = { failures: 0, lastFailureMs: now, blockedUntilMs: 0, nextBlockMs: FIRST_BLOCK_MS };
      this.#ips.set(ip, st);
    }
    st.failures++;
    st.lastFailureMs = now;
    if (st.failures >= this.#limit) {
      st.failures = 0;
      st.blockedUntilMs = now + st.nextBlockMs;
      this.#logger.warn('authentication throttled', { edge, ip, forMs: st.nextBlockMs });
      st.nextBlockMs = Math.min(MAX_BLOCK_MS, st.nextBlockMs * 2);
    }
  }

  #sweep(now: number): void {
    for (const [ip, st] of this.#ips) if (now >= st.blockedUntilMs) this.#ips.delete(ip);
    if (this.#ips.size < MAX_TRACKED) return;
    let n = Math.floor(this.#ips.size / 2);
    for (const ip of this.#ips.keys()) {
      if (n-- <= 0) break;
      this.#ips.delete(ip);
    }
  }
}

/** The token id for logs: the `AT_{id}_` part, or only the shape when it is not one; never the secret. */
export function tokenIdForLog(token: string | undefined): string {
  if (token === undefined || token === '') return '(none)';
  const parsed = parseAccessToken(token);
  if (parsed !== undefined) return parsed.id.slice(0, 64);
  return `(unrecognised, ${token.length} chars)`;
}
