// Per-tenant capacity of one relay, the same on both edges and with or without a control
// plane: connections per tenant (charged at the handshake to every tenant the token names), and
// at SUB time the subscriptions and distinct patterns of a tenant and the complexity of one
// pattern. So one tenant at its limit (one token opening 10,000 connections, or a `#` grant
// subscribing thousands of wildcard patterns) cannot take the slots or the matching CPU of
// another; the matching cost of one publish is bounded by maxWildcardPatternsPerTenant ×
// maxPatternTokens trie nodes (docs/security.md "Matching cost").
import { ErrorCode } from '@fastpubsub/core';

export interface TenantCapacityLimits {
  maxConnectionsPerTenant: number;
  maxSubscriptionsPerTenant: number;
  maxWildcardPatternsPerTenant: number;
  maxPatternTokens: number;
  maxPatternWildcards: number;
}

export interface SubscriptionRefusal {
  code: ErrorCode;
  detail: string;
}

/** A wildcard token: `*`, `#`, `>` alone or after a prefix (contract §5). */
export function isWildcardToken(token: string): boolean {
  const last = token.charCodeAt(token.length - 1);
  return last === 0x2a || last === 0x23 || last === 0x3e;
}

export function hasWildcard(pattern: string): boolean {
  return pattern.split('.').some(isWildcardToken);
}

/** Checks one pattern's shape against the limits (the pattern is already valid syntax). */
export function patternComplexityRefusal(pattern: string, l: TenantCapacityLimits): SubscriptionRefusal | undefined {
  const tokens = pattern.split('.');
  if (tokens.length > l.maxPatternTokens) {
    return { code: ErrorCode.PatternTooComplex, detail: `${tokens.length} tokens, at most ${l.maxPatternTokens}` };
  }
  const wildcards = tokens.filter(isWildcardToken).length;
  if (wildcards > l.maxPatternWildcards) {
    return { code: ErrorCode.PatternTooComplex, detail: `${wildcards} wildcards, at most ${l.maxPatternWildcards}` };
  }
  return undefined;
}

export class TenantCapacity {
  readonly #limits: TenantCapacityLimits;
  readonly #connections = new Map<string, number>();
  #refused = 0;

  constructor(limits: TenantCapacityLimits) {
    this.#limits = limits;
  }

  get refused(): number {
    return this.#refused;
  }

  connectionsOf(tenant: string): number {
    return this.#connections.get(tenant) ?? 0;
  }

  /**
   * A connection holding a token for `tenants` opens. Returns a release function, or
   * undefined when one of the tenants is at its connection limit (nothing is charged then).
   */
  openConnection(tenants: readonly string[]): (() => void) | undefined {
    for (const t of tenants) {
      if ((this.#connections.get(t) ?? 0) >= this.#limits.maxConnectionsPerTenant) {
        this.#refused++;
        return undefined;
      }
    }
    for (const t of tenants) this.#connections.set(t, (this.#connections.get(t) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const t of tenants) {
        const n = (this.#connections.get(t) ?? 1) - 1;
        if (n <= 0) this.#connections.delete(t);
        else this.#connections.set(t, n);
      }
    };
  }

  /**
   * Whether a new (tenant, pattern) subscription fits. `wildcardPatterns`: distinct wildcard
   * patterns the tenant holds; `isNewPattern`: the tenant does not hold this pattern yet.
   */
  subscriptionRefusal(tenant: string, pattern: string, counts: { wildcardPatterns: number; subscriptions: number; isNewPattern: boolean }): SubscriptionRefusal | undefined {
    const shape = patternComplexityRefusal(pattern, this.#limits);
    if (shape !== undefined) return this.#refuse(shape);
    if (counts.subscriptions >= this.#limits.maxSubscriptionsPerTenant) {
      return this.#refuse({ code: ErrorCode.TooManySubscriptions, detail: `tenant ${tenant} holds ${counts.subscriptions} subscriptions` });
    }
    if (counts.isNewPattern && hasWildcard(pattern) && counts.wildcardPatterns >= this.#limits.maxWildcardPatternsPerTenant) {
      return this.#refuse({ code: ErrorCode.TooManySubscriptions, detail: `tenant ${tenant} holds ${counts.wildcardPatterns} wildcard patterns` });
    }
    return undefined;
  }

  #refuse(r: SubscriptionRefusal): SubscriptionRefusal {
    this.#refused++;
    return r;
  }
}
