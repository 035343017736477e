export type { TenantGrant, TokenRight, TokenRecord } from './types.js';
export { parseAccessToken, formatAccessToken, hashSecret } from './token.js';
export { parseRfc3339 } from './rfc3339.js';
export {
  parseGetTokenRequest,
  parseRefreshTokenRequest,
  parseRevokeTokenRequest,
  parseExpiry,
  type ExpiryOptions,
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
export { MemoryTokenStore, type TokenStore } from './store.js';
export { EmbeddedTokenStore, type EmbeddedTokenStoreOptions } from './embedded-store.js';
export { TokenService, type TokenServiceOptions, type VerifyContext } from './service.js';
