// The tenant-capacity check both edges run on a new SUB, after the grant check: reads the
// dispatcher's counts for the tenant and asks TenantCapacity whether one more fits.
import type { SubscriptionRefusal, TenantCapacity } from './tenant-capacity.js';

/** What the check reads of the dispatcher's subscription index. */
export interface TenantSubscriptionCounts {
  wildcardPatternCountOf(tenant: string): number;
  subscriptionCountOf(tenant: string): number;
  holdsPattern(tenant: string, pattern: string): boolean;
}

export function subscribeRefusal(capacity: TenantCapacity | undefined, dispatcher: TenantSubscriptionCounts, tenant: string, pattern: string): SubscriptionRefusal | undefined {
  if (capacity === undefined) return undefined;
  return capacity.subscriptionRefusal(tenant, pattern, {
    wildcardPatterns: dispatcher.wildcardPatternCountOf(tenant),
    subscriptions: dispatcher.subscriptionCountOf(tenant),
    isNewPattern: !dispatcher.holdsPattern(tenant, pattern),
  });
}
