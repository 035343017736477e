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
  emptyPopState,
  type TicketClaims,
  type PublicJwk,
  type TenantLimits,
  type ChannelLimits,
  type PopState,
  type WatchEvent,
  type PopRecord,
} from './control-api.js';
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
