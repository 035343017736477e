// Errors and limits of the wire layer. The codes are a subset of @fastpubsub/core's ErrorCode
// (same strings), so the relay maps a WireError to an FpsError 1:1 without a lookup table; wire
// cannot import core (imports flow wire → core), hence the duplicated literals.

export type WireErrorCode =
  | 'bad_frame'
  | 'payload_too_large'
  | 'invalid_name'
  | 'invalid_pattern'
  | 'bad_command';

export class WireError extends Error {
  readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string) {
    super(message);
    this.name = 'WireError';
    this.code = code;
  }
}

export function isWireError(value: unknown): value is WireError {
  return value instanceof WireError;
}

/** Largest application payload (contract v0.1 §5), in bytes. */
export const MAX_PAYLOAD = 65535;
/** Largest native frame topic in UTF-8 bytes (the header's topic length is a u8). */
export const MAX_TOPIC = 255;
/** Tenant name, UTF-8 bytes (contract §5). */
export const MAX_TENANT = 128;
/** Channel name, UTF-8 bytes (contract §5). */
export const MAX_CHANNEL = 256;
/** Channel pattern, UTF-8 bytes (contract §5). */
export const MAX_PATTERN = 256;
/**
 * Default cap on a native frame's payload length: MAX_PAYLOAD plus room for the per-type prefix
 * (PUB's mode + tenant length + a ≤128-byte tenant is the largest).
 */
export const MAX_FRAME_PAYLOAD = MAX_PAYLOAD + 256;

export function badFrame(message: string): WireError {
  return new WireError('bad_frame', message);
}
