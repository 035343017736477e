// Errors the SDK raises. Every error has a stable `code`; server `ERR:` lines keep their wire
// code (contract v0.1 §10.2) in `code` and the rest of the line in `detail`.
import { realClock, type Clock } from './clock.js';

export type ClientErrorCode =
  | 'bad_argument' // invalid tenant/channel/pattern/payload given to the SDK
  | 'queue_full' // publish queue full with policy 'error'
  | 'closed' // the client (or subscription) is closed
  | 'aborted' // an AbortSignal fired
  | 'timeout' // a bounded wait expired
  | 'no_edge' // no candidate edge answered /ping
  | 'discovery_failed' // the discovery document was unusable
  | 'connect_failed' // the transport could not open
  | 'unauthorized' // the edge answered 401 (bad, expired or revoked token)
  | 'forbidden' // the edge answered 403
  | 'protocol' // the edge broke the contract (e.g. wrong subprotocol)
  | 'token_provider' // the tokenProvider threw
  | 'http' // a REST call answered non-2xx
  | 'rate_limited' // an HTTPS publish answered 429 (see `retryAfterMs`)
  | 'server'; // an `ERR:` line from the edge; see `serverCode`

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  /** For `code === 'server'`: the wire code, e.g. `permission_denied`, `token_expired`. */
  readonly serverCode: string | undefined;
  /** Extra detail: the rest of an `ERR:` line, an HTTP body, … */
  readonly detail: string | undefined;
  /** HTTP status for `unauthorized`, `forbidden`, `http`, `connect_failed` when known. */
  readonly status: number | undefined;
  /** For `rate_limited`: how long the edge asked to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ClientErrorCode,
    message: string,
    options?: { serverCode?: string; detail?: string; status?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.serverCode = options?.serverCode;
    this.detail = options?.detail;
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export function isClientError(value: unknown): value is ClientError {
  return value instanceof ClientError;
}

export function abortError(signal: AbortSignal | undefined): ClientError {
  const reason: unknown = signal?.reason;
  return new ClientError('aborted', 'operation aborted', reason === undefined ? undefined : { cause: reason });
}

/** Rejects `p` early when `signal` fires; removes its listener either way. */
export function withSignal<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Resolves after `ms`, or rejects when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = realClock): Promise<void> {
  return withSignal(
    new Promise<void>((resolve) => {
      const onAbort = (): void => clock.clearTimeout(t);
      const t = clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
    signal,
  );
}
