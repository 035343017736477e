// Records the control plane keeps in its store, one kind per key prefix. Secrets are stored
// hashed (master tokens) or not at all (access tokens: only a hash of the signature part).
import type { PublicJwk, TenantLimits } from '@fastpubsub/protocol';

export type Kind = 'tenant' | 'mt' | 'key' | 'token' | 'revoked' | 'expiry' | 'limits' | 'pop' | 'usage' | 'hook' | 'hookstats';
export const KINDS: readonly Kind[] = ['tenant', 'mt', 'key', 'token', 'revoked', 'expiry', 'limits', 'pop', 'usage', 'hook', 'hookstats'];

export interface TenantRecord {
  id: string;
  name: string;
  createdAtMs: number;
}

/** A tenant master token: `MT_{id}_{secret}`; only the SHA-256 of the secret is kept. */
export interface MasterTokenRecord {
  id: string;
  tenant: string;
  secretHash: string;
  description?: string;
  createdAtMs: number;
}

/** A signing key. The private JWK stays in the store (see docs/control-plane.md). */
export interface KeyRecord {
  kid: string;
  publicJwk: PublicJwk;
  privateJwk: Record<string, unknown>;
  createdAtMs: number;
  /** The newest active key signs; older ones only verify. */
  active: boolean;
  retiredAtMs?: number;
  /** Latest effective expiry of any token signed with it: published to PoPs until then. */
  maxExpiryMs: number;
}

export interface TokenMeta {
  id: string;
  kid: string;
  tenants: string[];
  /** Effective expiry (refresh updates it). */
  expMs: number;
  /** SHA-256 of the signed part, to check a revoke request names the real token. */
  secretHash: string;
  createdBy: string;
  description?: string;
  createdAtMs: number;
}

export interface RevokedRecord {
  id: string;
  exp_ms: number;
  revokedAtMs: number;
}

export interface ExpiryRecord {
  id: string;
  exp_ms: number;
}

export type { PopRecord } from '@fastpubsub/protocol';

/** Cumulative usage of one tenant at one PoP process (boot) in one month (`YYYY-MM`, UTC). */
export interface UsageRecord {
  tenant: string;
  month: string;
  pop: string;
  boot: string;
  messages: number;
  bytes: number;
  connectionMs: number;
  updatedAtMs: number;
}

export type { TenantLimits };

/** Outbound delivery counts of one hook reported by one PoP process (cumulative). */
export interface HookStatsRecord {
  hook: string;
  pop: string;
  boot: string;
  delivered: number;
  retried: number;
  dropped: number;
  updatedAtMs: number;
}

export type { HookDef, InboundHook, OutboundHook } from '@fastpubsub/protocol';
