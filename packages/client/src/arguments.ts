// Checks of the application's arguments to publish(), subscribe() and presence(): a bad one is
// a ClientError 'bad_argument' naming what is wrong, thrown before anything is sent.
import { validateChannel, validatePattern, validateTenant, MAX_PAYLOAD } from '@fastpubsub/wire';
import { ClientError } from './errors.js';
import type { PublishOptions } from './api.js';
import type { DeliveryMode } from './transport.js';

const textEncoder = new TextEncoder();

function badArgument(err: unknown): ClientError {
  return new ClientError('bad_argument', err instanceof Error ? err.message : String(err), { cause: err });
}

/** The payload as bytes and the delivery mode of a valid publish(); throws on a bad argument. */
export function publishArguments(tenant: string, channel: string, payload: Uint8Array | string, options: PublishOptions | undefined): { bytes: Uint8Array; mode: DeliveryMode } {
  const bytes = typeof payload === 'string' ? textEncoder.encode(payload) : payload;
  const mode = options?.delivery ?? 'broadcast';
  checkTenantChannel(tenant, channel);
  if (bytes.length > MAX_PAYLOAD) throw new ClientError('bad_argument', `payload is ${bytes.length} bytes, more than ${MAX_PAYLOAD}`);
  if (mode !== 'broadcast' && mode !== 'one-low-latency' && mode !== 'one-random') throw new ClientError('bad_argument', `unknown delivery ${String(mode)}`);
  return { bytes, mode };
}

export function checkTenantChannel(tenant: string, channel: string): void {
  try {
    validateTenant(tenant);
    validateChannel(channel);
  } catch (err) {
    throw badArgument(err);
  }
}

export function checkTenantPattern(tenant: string, pattern: string): void {
  try {
    validateTenant(tenant);
    validatePattern(pattern);
  } catch (err) {
    throw badArgument(err);
  }
}

/** Presence is per channel: a subscription that asks for it must name an exact channel. */
export function checkPresenceChannel(pattern: string): void {
  try {
    validateChannel(pattern);
  } catch (err) {
    throw new ClientError('bad_argument', `presence needs an exact channel: ${err instanceof Error ? err.message : String(err)}`);
  }
}
