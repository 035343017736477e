// Keeps the client's access token fresh: asks the token provider for a new one (one request at
// a time, shared by every caller), and schedules the next refresh `tokenRefreshMarginMs` before
// expiry (or halfway there when it is closer). The client decides what a new token means for
// its connections (a make-before-break migration).
import { realClock, type Clock } from './clock.js';
import { ClientError } from './errors.js';
import { toEpochMs, type TokenProvider, type TokenReason } from './options.js';

export interface TokenKeeperOptions {
  token: string | undefined;
  expiresAt: Date | number | string | undefined;
  provider: TokenProvider | undefined;
  refreshMarginMs: number;
  /** Aborted when the client closes: cancels a provider call and stops refreshing. */
  signal: AbortSignal;
  /** A new token arrived. */
  onToken(e: { expiresAt: number | undefined; reason: TokenReason }): void;
  /** The provider failed (also rejected to the caller of refresh()). */
  onError(e: ClientError): void;
  /** A scheduled refresh succeeded (the client migrates its connection to the new token). */
  onScheduledRefresh(): void;
  /** Default: real time. */
  clock?: Clock;
}

/** After a failed scheduled refresh, try again this soon; the current connection keeps working. */
const RETRY_MS = 2000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class TokenKeeper {
  token: string | undefined;
  expiresAt: number | undefined;
  readonly #o: TokenKeeperOptions;
  #inFlight: Promise<void> | undefined;
  #timer: unknown;
  readonly #clock: Clock;

  constructor(o: TokenKeeperOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.token = o.token;
    this.expiresAt = toEpochMs(o.expiresAt);
  }

  refresh(reason: TokenReason): Promise<void> {
    const provider = this.#o.provider;
    if (provider === undefined) return Promise.reject(new ClientError('token_provider', 'no tokenProvider to refresh the token'));
    if (this.#inFlight !== undefined) return this.#inFlight;
    this.#inFlight = (async () => {
      try {
        const got = await provider({ reason, signal: this.#o.signal });
        const token = typeof got === 'string' ? got : got.token;
        if (typeof token !== 'string' || token === '') throw new Error('the provider returned no token');
        this.token = token;
        this.expiresAt = typeof got === 'string' ? undefined : toEpochMs(got.expiresAt);
        this.#o.onToken({ expiresAt: this.expiresAt, reason });
        this.schedule();
      } catch (err) {
        const e = err instanceof ClientError ? err : new ClientError('token_provider', `tokenProvider failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        if (!this.#o.signal.aborted) this.#o.onError(e);
        throw e;
      } finally {
        this.#inFlight = undefined;
      }
    })();
    return this.#inFlight;
  }

  /** (Re)arms the refresh timer for the current token's expiry. */
  schedule(): void {
    this.#clock.clearTimeout(this.#timer);
    const expiresAt = this.expiresAt;
    if (expiresAt === undefined || this.#o.provider === undefined || this.#o.signal.aborted) return;
    const remaining = expiresAt - this.#clock.wallNow();
    const margin = Math.min(this.#o.refreshMarginMs, Math.max(0, remaining / 2));
    this.#timer = this.#clock.setTimeout(() => {
      this.refresh(remaining - margin > 0 ? 'expiring' : 'expired').then(
        () => this.#o.onScheduledRefresh(),
        () => {
          if (!this.#o.signal.aborted) this.#timer = this.#clock.setTimeout(() => this.schedule(), RETRY_MS);
        },
      );
    }, Math.max(0, Math.min(remaining - margin, MAX_TIMER_MS)));
  }

  stop(): void {
    this.#clock.clearTimeout(this.#timer);
  }
}
