// ERR frames from the edge. A refused SUB is `ERR:{code}:SUB:{tenant}:{pattern}`
// (permission_denied, invalid_pattern, too_many_subscriptions, …), followed by an inert OK:SUB
// (contract §11.8) that must confirm nothing; an expired token is refreshed and the client
// migrates to a new connection; every ERR is also reported through the 'error' event.
import { ClientError } from './errors.js';
import type { Conn } from './conn.js';
import { subKey as key, type Entry } from './subscription-table.js';

/** ERR codes that refuse a SUB (its detail names it); others, e.g. slow_consumer, do not end it. */
const SUB_REFUSAL_CODES: ReadonlySet<string> = new Set([
  'permission_denied', 'invalid_pattern', 'invalid_name', 'too_many_subscriptions', 'token_expired', 'rate_limited', 'internal',
  'pattern_too_complex',
]);

/** What ERR handling needs from the client. */
export interface ServerErrorHost {
  /** Whether a token provider can replace an expired token. */
  readonly canRefreshToken: boolean;
  entryOf(tenant: string, pattern: string): Entry | undefined;
  isActive(conn: Conn): boolean;
  failEntry(entry: Entry, error: ClientError): void;
  /** Refreshes the expired token, then migrates to a connection that uses it. */
  refreshExpiredToken(): void;
  emitError(error: ClientError): void;
}

export function handleServerError(h: ServerErrorHost, conn: Conn, code: string, detail: string | undefined): void {
  if (detail?.startsWith('SUB:') && SUB_REFUSAL_CODES.has(code)) {
    const rest = detail.slice(4);
    const i = rest.indexOf(':');
    if (i >= 0) conn.refused.add(key(rest.slice(0, i), rest.slice(i + 1)));
    const entry = i < 0 ? undefined : h.entryOf(rest.slice(0, i), rest.slice(i + 1));
    const retryWithNewToken = code === 'token_expired' && h.canRefreshToken;
    // An expired token is refreshed below and the subscription re-sent on the new connection.
    if (entry !== undefined && !retryWithNewToken) {
      return h.failEntry(entry, new ClientError('server', `subscription ${entry.tenant}:${entry.pattern} refused (${code})`, { serverCode: code, detail }));
    }
  }
  if (code === 'token_expired' && h.isActive(conn) && h.canRefreshToken) h.refreshExpiredToken();
  h.emitError(new ClientError('server', `edge error: ${code}${detail === undefined ? '' : `: ${detail}`}`, { serverCode: code, detail }));
}
