export type { TenantGrant, TokenRight, TokenRecord } from './types.js';
export { parseAccessToken, formatAccessToken, hashSecret } from './token.js';
export { parseRfc3339 } from './rfc3339.js';
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
} from './requests.js';
export {
  canPublish,
  canSubscribe,
  ruleCovers,
  isValidRule,
  isValidTenant,
  isValidChannel,
  CompiledGrants,
} from './grants.js';
export {
  parseIpMask,
  compileIpMasks,
  ipAllowed,
  ipAllowedBy,
  regionAllowed,
  originAllowed,
  CompiledRestrictions,
  type RestrictionFailure,
} from './restrictions.js';
export { Ticket } from './ticket.js';
export {
  parseTokenRights,
  CompiledRights,
  EDGE_PROTOCOLS,
  SHIPPED_RATE_DEFAULTS,
  type EdgeProtocol,
  type RateDefaults,
  type TokenRightsFields,
} from './rights.js';
export { MemoryTokenStore, type TokenStore } from './store.js';
export { EmbeddedTokenStore, type EmbeddedTokenStoreOptions } from './embedded-store.js';
export { TokenService, type TokenServiceOptions, type VerifyContext } from './service.js';
