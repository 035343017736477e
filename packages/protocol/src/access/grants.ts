// Channel grants (contract §5 "Grants"): a rule is an exact channel or a prefix tree `x.#`
// covering `x` and everything below it. We also accept the rule `#` (every channel), the
// degenerate tree with an empty prefix, so an operator can issue a tenant-wide token.

import type { TokenRight } from './types.js';

const NAME_RE = /^[A-Za-z0-9_\-~@.]+$/;
const utf8Len = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Tenant id: 1–128 bytes of `A-Za-z0-9_-~@.` (contract §3, §5). */
export function isValidTenant(tenant: string): boolean {
  return tenant.length > 0 && utf8Len(tenant) <= 128 && NAME_RE.test(tenant);
}

/** Concrete channel: 1–256 bytes, allowed characters, no empty token. */
export function isValidChannel(channel: string): boolean {
  return (
    channel.length > 0 && utf8Len(channel) <= 256 && NAME_RE.test(channel) && !channel.split('.').includes('')
  );
}

/** A grant rule: an exact channel, `x.#`, or `#`. */
export function isValidRule(rule: string): boolean {
  if (rule === '#') return true;
  if (rule.endsWith('.#')) return utf8Len(rule) <= 256 && isValidChannel(rule.slice(0, -2));
  return isValidChannel(rule);
}

/**
 * Whether a channel (publish) or a pattern (subscribe) falls under a rule. Both reduce to the
 * same string test, because rule text never contains a wildcard:
 * - exact rule: the channel / pattern must equal it (any wildcard pattern matches more than
 *   one channel, so it can never be a subset of a single channel);
 * - `x.#`: the text must be `x` or start with `x.`; for a pattern that means its first tokens
 *   are the literal tokens of `x`, so every channel it matches lies under `x` (`x.#`, `x.y.*`,
 *   `x.>` pass; `x*.#`, `#`, `*.y` fail because their leading tokens are not literally `x`).
 */
export function ruleCovers(rule: string, text: string): boolean {
  if (rule === '#') return true;
  if (rule.endsWith('.#')) {
    const base = rule.slice(0, -2);
    return text === base || (text.length > base.length && text.startsWith(base) && text.charCodeAt(base.length) === 0x2e);
  }
  return text === rule;
}

interface TenantRules {
  readonly pub: string[];
  readonly sub: string[];
}

/** Grants merged per tenant: a tenant named in several grants gets the union of their rules. */
export class CompiledGrants {
  readonly #byTenant = new Map<string, TenantRules>();

  /** The tenants this token holds any grant in (per-tenant capacity is charged to them). */
  get tenants(): string[] {
    return [...this.#byTenant.keys()];
  }

  constructor(right: Pick<TokenRight, 'tenant_grants'>) {
    for (const g of right.tenant_grants) {
      for (const tenant of g.tenant_ids) {
        let rules = this.#byTenant.get(tenant);
        if (rules === undefined) {
          rules = { pub: [], sub: [] };
          this.#byTenant.set(tenant, rules);
        }
        rules.pub.push(...g.allow_channels_pub);
        rules.sub.push(...g.allow_channels_sub);
      }
    }
  }

  canPublish(tenant: string, channel: string): boolean {
    return this.#byTenant.get(tenant)?.pub.some((r) => ruleCovers(r, channel)) ?? false;
  }

  canSubscribe(tenant: string, pattern: string): boolean {
    return this.#byTenant.get(tenant)?.sub.some((r) => ruleCovers(r, pattern)) ?? false;
  }
}

const compiled = new WeakMap<object, CompiledGrants>();

function grantsOf(right: Pick<TokenRight, 'tenant_grants'>): CompiledGrants {
  let g = compiled.get(right);
  if (g === undefined) {
    g = new CompiledGrants(right);
    compiled.set(right, g);
  }
  return g;
}

/** The channel matches an allow_channels_pub rule of a grant naming the tenant. */
export function canPublish(right: Pick<TokenRight, 'tenant_grants'>, tenant: string, channel: string): boolean {
  return grantsOf(right).canPublish(tenant, channel);
}

/** Every channel the pattern can match is covered by one allow_channels_sub rule of the tenant. */
export function canSubscribe(right: Pick<TokenRight, 'tenant_grants'>, tenant: string, pattern: string): boolean {
  return grantsOf(right).canSubscribe(tenant, pattern);
}
