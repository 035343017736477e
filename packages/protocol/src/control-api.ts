// Wire shapes shared by the control plane (which signs and publishes) and every PoP (which
// verifies locally). Kept in this leaf package, below both, so neither imports the other.
import type { TokenRightsFields } from './access/rights.js';
import type { TenantGrant } from './access/types.js';

/** The payload of a signed access ticket (`AT_{jti}_{compact JWS}`). */
export interface TicketClaims {
  /** Token id, equal to the `{id}` part of the token text. */
  jti: string;
  /** Issued at, seconds since the epoch (JWT NumericDate). */
  iat: number;
  /** Expiry as signed, milliseconds since the epoch (refresh overrides it, see ExpiryOverride). */
  exp_ms: number;
  /** JWT `exp` in seconds, for generic JWT tooling; `exp_ms` is authoritative. */
  exp: number;
  /** Grants, restrictions, and the protocols and rates of contract §11.7 (absent in older tickets). */
  right: TokenRightsFields & {
    tenant_grants: TenantGrant[];
    allow_ip_masks: string[];
    allow_regions: string[];
    allowed_ws_origin: string[];
  };
}

/** An Ed25519 public key as a JWK with its key id. */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
}

/** Per-tenant limits pushed to every PoP; every field optional (absent = unlimited). */
export interface TenantLimits {
  messagesPerSecond?: number;
  bytesPerSecond?: number;
  /** Bucket depth in seconds of the rate (default 1 s). */
  burstSeconds?: number;
  maxConnections?: number;
  /** Default limit of each channel of the tenant. */
  channel?: ChannelLimits;
  /** Per-channel overrides, by exact channel name. */
  channels?: Record<string, ChannelLimits>;
  /** Usage quota: messages per calendar month (UTC); past it, publishes get rate_limited. */
  monthlyMessages?: number;
}

export interface ChannelLimits {
  messagesPerSecond?: number;
  bytesPerSecond?: number;
  /**
   * 'latest': only the newest message of the channel counts (docs/latest-mode.md). Every
   * subscriber queue and mesh link queue keeps at most its newest undelivered message, and the
   * QUIC edge sends what fits as datagrams. Absent or 'all': every message, in order.
   */
  delivery?: 'all' | 'latest';
}

/** Everything a PoP holds from the control plane; also its on-disk cache. */
export interface PopState {
  /** Monotonic version of the control plane's view (etcd revision or the embedded log's). */
  rev: number;
  keys: PublicJwk[];
  /** Revoked token ids, with the expiry after which the entry may be forgotten. */
  revoked: Array<{ id: string; exp_ms: number }>;
  /** Refreshed expiries by token id (contract §7: refresh changes only the expiry). */
  expiry: Array<{ id: string; exp_ms: number }>;
  limits: Record<string, TenantLimits>;
  /** Tenants past their usage quota. */
  overQuota: string[];
  /** Inbound and outbound webhooks of every tenant, with their secrets (absent in old caches). */
  hooks?: HookDef[];
}

/** How an inbound hook's requests are signed (docs/webhooks.md). */
export type InboundScheme = 'standard' | 'github' | 'stripe' | 'none';
export const INBOUND_SCHEMES: readonly InboundScheme[] = ['standard', 'github', 'stripe', 'none'];

/** `POST /v1/hooks/{id}` at any PoP publishes the verified body to a channel. */
export interface InboundHook {
  id: string;
  tenant: string;
  direction: 'in';
  /** The fixed target channel, or… */
  channel?: string;
  /** …a JSON pointer (RFC 6901) into the body naming the channel. */
  channelPointer?: string;
  scheme: InboundScheme;
  /** The shared secret (`whsec_…` base64 for 'standard'); absent with scheme 'none'. */
  secret?: string;
  createdAtMs: number;
}

/** Messages matching `pattern` in `tenant` are POSTed to `url`, signed per Standard Webhooks. */
export interface OutboundHook {
  id: string;
  tenant: string;
  direction: 'out';
  pattern: string;
  url: string;
  /** `whsec_` + base64 key the deliveries are signed with. */
  secret: string;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** A message still failing this long after it was published is dropped (and counted). */
  retryWindowMs: number;
  createdAtMs: number;
}

export type HookDef = InboundHook | OutboundHook;

/** Cumulative outbound delivery counts of one hook at one PoP process. */
export interface HookCounts {
  delivered: number;
  retried: number;
  dropped: number;
}

/** One line of the `GET /v1/watch` stream (JSON lines). */
export type WatchEvent =
  | { type: 'snapshot'; state: PopState }
  | { type: 'revoked'; rev: number; id: string; exp_ms: number }
  | { type: 'expiry'; rev: number; id: string; exp_ms: number }
  | { type: 'keys'; rev: number; keys: PublicJwk[] }
  | { type: 'limits'; rev: number; tenant: string; limits: TenantLimits | null }
  | { type: 'quota'; rev: number; overQuota: string[] }
  | { type: 'hooks'; rev: number; hooks: HookDef[] }
  | { type: 'ping' };

export const emptyPopState = (): PopState => ({ rev: 0, keys: [], revoked: [], expiry: [], limits: {}, overQuota: [] });

/** One PoP in the control plane's registry (`GET /v1/pops`), as stored and as served. */
export interface PopRecord {
  id: string;
  region: string;
  httpUrl: string;
  wsUrl: string;
  /** host:port of its mesh endpoint and its mesh relay id, when it runs a mesh (peers discover it here). */
  mesh?: string;
  meshId?: string;
  registeredAtMs: number;
  lastSeenMs: number;
}
