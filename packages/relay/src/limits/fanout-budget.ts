// Fan-out work per tenant: each publish costs one unit plus one per matching subscriber it is
// delivered to, charged to the publishing tenant's token bucket (`maxDeliveriesPerTenantPerSecond`,
// 1 s of burst). A publish that would overdraw the bucket is refused whole (the publisher gets
// rate_limited), so one tenant's fan-out cannot take the delivery capacity other tenants need.
import { TokenBucket } from './bucket.js';

/** Tenants tracked; beyond this, full (idle) buckets are forgotten first. */
const MAX_TENANTS = 100_000;

export class FanoutBudget {
  readonly #perSecond: number;
  readonly #buckets = new Map<string, TokenBucket>();
  #refused = 0;

  /** `perSecond` 0: unlimited. */
  constructor(perSecond: number) {
    this.#perSecond = perSecond;
  }

  get refused(): number {
    return this.#refused;
  }

  /** Charges `deliveries + 1` units to `tenant`; false (nothing charged) when it has not got them. */
  charge(tenant: string, deliveries: number, nowMs: number): boolean {
    if (this.#perSecond <= 0) return true;
    let b = this.#buckets.get(tenant);
    if (b === undefined) {
      if (this.#buckets.size >= MAX_TENANTS) {
        for (const [t, x] of this.#buckets) if (x.isFull(nowMs)) this.#buckets.delete(t);
      }
      b = new TokenBucket(this.#perSecond, this.#perSecond, nowMs);
      this.#buckets.set(tenant, b);
    }
    if (b.take(deliveries + 1, nowMs)) return true;
    this.#refused++;
    return false;
  }
}
