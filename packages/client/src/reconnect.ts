// The reconnect loop of contract v0.1 §6: open a new connection (re-selecting the edge after
// the first failure) and switch to it, backing off between attempts. The same loop serves a
// make-before-break migration, since switching keeps the old connection until the new one is
// confirmed. A refused token ends the client unless one refresh can replace it.
import { ClientError, sleep } from './errors.js';
import { backoffDelay, type ResolvedOptions } from './options.js';
import type { ClientEvents } from './api.js';
import type { Conn } from './conn.js';
import type { Clock } from './clock.js';

/** What the loop needs from the client. */
export interface ReconnectHost {
  readonly reconnect: ResolvedOptions['reconnect'];
  readonly clock: Clock;
  /** Aborted when the client closes: ends a backoff sleep. */
  readonly signal: AbortSignal;
  /** Whether a token provider can replace a refused token. */
  readonly canRefreshToken: boolean;
  isClosed(): boolean;
  hasActive(): boolean;
  openAndSubscribe(reselect: boolean): Promise<Conn>;
  switchTo(conn: Conn): void;
  refreshToken(reason: 'unauthorized'): Promise<void>;
  shutdown(error: Error): Promise<void>;
  onRetry(e: ClientEvents['reconnecting']): void;
}

export async function reconnectLoop(h: ReconnectHost): Promise<void> {
  const r = h.reconnect;
  let attempt = 0;
  let refreshedAfter401 = false;
  while (!h.isClosed()) {
    try {
      const conn = await h.openAndSubscribe(attempt > 0);
      h.switchTo(conn);
      return;
    } catch (err) {
      if (h.isClosed()) return;
      const error = err instanceof Error ? err : new Error(String(err));
      if (error instanceof ClientError && error.code === 'unauthorized') {
        // A refused token (revoked, or expired with no way to get another) never becomes
        // valid by retrying: end the client with the 401 instead of backing off forever.
        if (!h.canRefreshToken || refreshedAfter401) return void (await h.shutdown(error));
        try {
          await h.refreshToken('unauthorized');
          refreshedAfter401 = true;
        } catch {
          // reported through the 'error' event; keep backing off
        }
      }
      attempt++;
      if (attempt >= r.maxAttempts) {
        if (!h.hasActive()) await h.shutdown(error);
        return;
      }
      const delayMs = backoffDelay(attempt, r.baseDelayMs, r.maxDelayMs);
      h.onRetry({ attempt, delayMs, error });
      try {
        await sleep(delayMs, h.signal, h.clock);
      } catch {
        return;
      }
    }
  }
}
