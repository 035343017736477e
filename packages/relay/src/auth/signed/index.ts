export type { TicketClaims, PublicJwk, TenantLimits, ChannelLimits, PopState, WatchEvent } from './types.js';
export { emptyPopState } from './types.js';
export { decodeCompactJws, importPublicJwk, verifySignature, type DecodedJws } from './jws.js';
export { SignedTicket, SignedTicketState, SignedTicketVerifier } from './verifier.js';
export { ControlClient, type ControlClientOptions, type TokenOp } from './client.js';
export { RegistryDiscovery, type RegistrySource } from './registry-discovery.js';
