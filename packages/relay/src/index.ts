// @fastpubsub/relay: a FastPubSub relay (PoP). startRelay is the entry point; the parts are
// exported for the CLI, the benchmarks and the simulator.
export { startRelay, type Relay, type RelayDeps } from './node.js';
export { RelayMetrics } from './metrics.js';
export type { RelayConfig, RelayConfigInput } from '@fastpubsub/core';
// For the control plane (packages/control), which signs what PoPs verify here.
export * from './auth/signed/index.js';
export type { TicketClaims, PublicJwk, TenantLimits, ChannelLimits, PopState, WatchEvent } from '@fastpubsub/protocol';
export { emptyPopState } from '@fastpubsub/protocol';
export { ControlClient, type ControlClientOptions, type TokenOp } from './control-client/index.js';
export { RegistryDiscovery, type RegistrySource } from './mesh/link/registry-discovery.js';
export { Admission, TokenBucket, patternComplexityRefusal, type AdmitResult, type TenantUsage } from './limits/index.js';
// For the attack suite's matching-cost benchmark (bench/attack).
export { SubscriptionIndex } from './fanout/index.js';
export {
  parseAccessToken,
  formatAccessToken,
  hashSecret,
  parseGetTokenRequest,
  parseRefreshTokenRequest,
  parseRevokeTokenRequest,
  type GetTokenRequest,
  type TenantGrant,
  type TokenRight,
  type RateDefaults,
} from './auth/index.js';
export { createMeshPki, issueAgentCertificate, agentTenantOf, loadMeshCredentials, relayIdOf, MESH_SERVER_NAME, type MeshPkiPaths, type MeshCredentials } from './mesh/link/pki.js';
export { EdgeAgent, type AgentStatus } from './agent/index.js';
export type { LinkInfo as MeshLinkInfo, RouteInfo as MeshRouteInfo } from './mesh/mesh.js';
// The pure routing core, for the simulator (sim/) and the benchmarks.
export {
  Router,
  LinkHealth,
  encodeAdvert,
  decodeAdvert,
  linkCostMs,
  type RouterOptions,
  type RouteChange,
  type RouteAdvert,
  type LinkHealthOptions,
} from './mesh/route/index.js';
export { relayOpenapi } from './edge/http/openapi.js';
