// Every error FastPubSub raises has a type, a stable code and, where it crosses the wire, the
// text the client sees (`ERR:{code}[:{detail}]` on the WebSocket edge, an ERR frame on QUIC).
// Codes are part of the public contract: never rename one, only add.

export const ErrorCode = {
  // Client input (contract v0.1 §10.2 codes first).
  PermissionDenied: 'permission_denied',
  BadFrame: 'bad_frame',
  BadCommand: 'bad_command',
  InvalidPattern: 'invalid_pattern',
  InvalidName: 'invalid_name',
  PayloadTooLarge: 'payload_too_large',
  RateLimited: 'rate_limited',
  TooManySubscriptions: 'too_many_subscriptions',
  /** A SUB pattern over the relay's complexity limits (tokens or wildcards per pattern). */
  PatternTooComplex: 'pattern_too_complex',
  // Authentication and admission (HTTP 401/403 before an upgrade).
  Unauthorized: 'unauthorized',
  TokenExpired: 'token_expired',
  TokenRevoked: 'token_revoked',
  Forbidden: 'forbidden',
  /** An inbound webhook whose signature is missing, wrong, or outside the timestamp tolerance (HTTP 401). */
  SignatureInvalid: 'signature_invalid',
  // Delivery.
  SlowConsumer: 'slow_consumer',
  // Operations.
  ConfigInvalid: 'config_invalid',
  StoreUnavailable: 'store_unavailable',
  NotFound: 'not_found',
  /** The resource already exists (HTTP 409). */
  Conflict: 'conflict',
  BadRequest: 'bad_request',
  UnsupportedMediaType: 'unsupported_media_type',
  ShuttingDown: 'shutting_down',
  Internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The one error class of FastPubSub; `code` is stable, `message` is for humans. */
export class FpsError extends Error {
  readonly code: ErrorCode;
  /** Extra detail the client may see (never secrets). */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FpsError';
    this.code = code;
    this.detail = options?.detail;
  }
}

export function isFpsError(value: unknown): value is FpsError {
  return value instanceof FpsError;
}

/** HTTP status for an error code, used by the REST endpoints and the upgrade handshake. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.Unauthorized:
    case ErrorCode.TokenExpired:
    case ErrorCode.TokenRevoked:
    case ErrorCode.SignatureInvalid:
      return 401;
    case ErrorCode.Forbidden:
    case ErrorCode.PermissionDenied:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.StoreUnavailable:
    case ErrorCode.ShuttingDown:
      return 503;
    case ErrorCode.Internal:
      return 500;
    default:
      return 400;
  }
}
