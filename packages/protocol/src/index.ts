// @fastpubsub/protocol: the contracts a relay (PoP) and the control plane both speak, kept
// below both so neither imports the other. Pure: parsing, validation and shapes, no I/O.
export type { TenantGrant, TokenRight, TokenRecord } from './access/types.js';
export { parseAccessToken, formatAccessToken, hashSecret } from './access/token.js';
export { parseRfc3339 } from './access/rfc3339.js';
export {
  parseGetTokenRequest,
  parseRefreshTokenRequest,
  parseRevokeTokenRequest,
  parseExpiry,
  type ExpiryOptions,
  type GetTokenOptions,
  type GetTokenRequest,
  type RefreshTokenRequest,
  type RevokeTokenRequest,
} from './access/requests.js';
export {
  canPublish,
  canSubscribe,
  ruleCovers,
  isValidRule,
  isValidTenant,
  isValidChannel,
  CompiledGrants,
} from './access/grants.js';
export {
  parseIpMask,
  compileIpMasks,
  ipAllowed,
  ipAllowedBy,
  regionAllowed,
  originAllowed,
  CompiledRestrictions,
  type RestrictionFailure,
} from './access/restrictions.js';
export {
  parseTokenRights,
  isTokenRightsShape,
  CompiledRights,
  EDGE_PROTOCOLS,
  MIN_KB_PER_SEC,
  MAX_KB_PER_SEC,
  DEFAULT_KB_PER_SEC,
  SHIPPED_RATE_DEFAULTS,
  type EdgeProtocol,
  type ParsedRights,
  type RateDefaults,
  type TokenRightsFields,
} from './access/rights.js';
export {
  emptyPopState,
  type TicketClaims,
  type PublicJwk,
  type TenantLimits,
  type ChannelLimits,
  type PopState,
  type WatchEvent,
  type PopRecord,
  INBOUND_SCHEMES,
  type InboundScheme,
  type InboundHook,
  type OutboundHook,
  type HookDef,
  type HookCounts,
} from './control-api.js';
export { AuthFailureThrottle, isAuthFailure, tokenIdForLog, type FailureCounter } from './access/auth-failures.js';
export {
  SYSTEM_TENANT,
  NETWORK_STATE_PATTERN,
  NETWORK_STATE_INTERVAL_MS,
  networkStateChannels,
  tenantSegment,
  tenantStatsChannel,
  tenantStatsPattern,
  type TenantStatsMessage,
  type PopHealthMessage,
  type LinkStateEntry,
  type LinkStateMessage,
  type RouteStateEntry,
  type RouteStateMessage,
  type NetworkStateMessage,
} from './network-state.js';
