// The tenant-capacity check both edges run on a new SUB, after the grant check: reads the
// dispatcher's counts for the tenant and asks TenantCapacity whether one more fits.
import type { Dispatcher } from '../delivery/index.js';
import type { SubscriptionRefusal, TenantCapacity } from './tenant-capacity.js';

export function subscribeRefusal(capacity: TenantCapacity | undefined, dispatcher: Dispatcher, tenant: string, pattern: string): SubscriptionRefusal | undefined {
  if (capacity === undefined) return undefined;
  return capacity.subscriptionRefusal(tenant, pattern, {
    wildcardPatterns: dispatcher.wildcardPatternCountOf(tenant),
    subscriptions: dispatcher.subscriptionCountOf(tenant),
    isNewPattern: !dispatcher.holdsPattern(tenant, pattern),
  });
}
