// Small helpers over the shared name rules and error type, so the MQTT files read plainly.
import { isWireError, validateTenant } from '@fastpubsub/wire';

export { isFpsError } from '@fastpubsub/core';

/** The reason a tenant name is invalid, or undefined. */
export function validateTenantName(tenant: string): string | undefined {
  try {
    validateTenant(tenant);
    return undefined;
  } catch (err) {
    if (isWireError(err)) return err.message;
    throw err;
  }
}
