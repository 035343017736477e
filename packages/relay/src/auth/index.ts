// The access-token contracts live in @fastpubsub/protocol (shared with the control plane).
export * from '@fastpubsub/protocol';
export { Ticket } from './ticket.js';
export { MemoryTokenStore, type TokenStore } from './store.js';
export { EmbeddedTokenStore, type EmbeddedTokenStoreOptions } from './embedded-store.js';
export { TokenService, type TokenServiceOptions, type VerifyContext } from './service.js';
export { throttledVerifier } from './throttled-verifier.js';
