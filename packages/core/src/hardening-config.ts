// The relay's hardening limits (docs/security.md): their types, defaults and schema, part of
// `limits` in the relay config. Kept apart from config.ts so that file stays about the config as
// a whole; every key is validated by the same strict schema.

export interface HardeningLimits {
  /** Connections that have not yet authenticated (TCP before its request, QUIC before AUTH); beyond it the oldest is cut. */
  maxPreAuthConnections: number;
  /** Open connections from one client IP, pre-auth and authenticated, per edge. */
  maxConnectionsPerIp: number;
  /** Time a new connection gets to send its HTTP request / WebSocket upgrade (QUIC: `quic.authTimeoutMs`). */
  handshakeTimeoutMs: number;
  /** File descriptors kept free of client connections for /ping, /metrics, files and links. */
  fdReserve: number;
  /** Authenticated connections holding a grant for one tenant (one tenant cannot take every slot). */
  maxConnectionsPerTenant: number;
  /** Subscriptions of one tenant across all connections of this relay. */
  maxSubscriptionsPerTenant: number;
  /**
   * Distinct wildcard patterns of one tenant. A publish's matching walk visits at most
   * maxPatternTokens trie nodes per wildcard pattern (literal ones cost one lookup per token).
   */
  maxWildcardPatternsPerTenant: number;
  /** Dot-separated tokens in one subscription pattern. */
  maxPatternTokens: number;
  /** Wildcard tokens (`*`, `#`, `>`) in one subscription pattern. */
  maxPatternWildcards: number;
  /** Matching patterns listed in one WebSocket delivery frame; more matches are listed up to this many. */
  maxDeliveryPatterns: number;
  /** A WebSocket message whose fragments have not all arrived within this long closes the connection. */
  wsMessageTimeoutMs: number;
  /** The relay pings each WebSocket this often; 0 turns keepalive off. */
  wsPingIntervalMs: number;
  /** A WebSocket that has not answered a ping within this long is cut (half-open peers). */
  wsPongTimeoutMs: number;
  /** Fan-out work per tenant: publishes plus deliveries per second (0: unlimited). */
  maxDeliveriesPerTenantPerSecond: number;
  /** Failed authentications per client IP before the IP is refused with backoff. */
  authFailuresPerIp: number;
}

const positiveInt = { type: 'integer', minimum: 1 } as const;

export const HARDENING_DEFAULTS: Readonly<HardeningLimits> = Object.freeze({
  // Pre-authentication bounds (docs/security.md): an unauthenticated peer costs at most one of
  // these slots for at most handshakeTimeoutMs.
  maxPreAuthConnections: 1024,
  maxConnectionsPerIp: 1024,
  handshakeTimeoutMs: 5000,
  fdReserve: 256,
  maxConnectionsPerTenant: 2500,
  maxSubscriptionsPerTenant: 100_000,
  maxWildcardPatternsPerTenant: 1024,
  maxPatternTokens: 16,
  maxPatternWildcards: 4,
  maxDeliveryPatterns: 32,
  wsMessageTimeoutMs: 10_000,
  wsPingIntervalMs: 15_000,
  wsPongTimeoutMs: 10_000,
  // Above what one relay core delivers (docs/benchmarks.md: ~270k/s): it binds on larger hosts.
  maxDeliveriesPerTenantPerSecond: 500_000,
  authFailuresPerIp: 20,
});

export const hardeningSchema = {
  maxPreAuthConnections: positiveInt,
  maxConnectionsPerIp: positiveInt,
  handshakeTimeoutMs: { type: 'integer', minimum: 100, maximum: 120_000 },
  fdReserve: { type: 'integer', minimum: 0 },
  maxConnectionsPerTenant: positiveInt,
  maxSubscriptionsPerTenant: positiveInt,
  maxWildcardPatternsPerTenant: positiveInt,
  maxPatternTokens: { type: 'integer', minimum: 1, maximum: 128 },
  maxPatternWildcards: { type: 'integer', minimum: 0, maximum: 128 },
  maxDeliveryPatterns: { type: 'integer', minimum: 1, maximum: 1000 },
  wsMessageTimeoutMs: { type: 'integer', minimum: 100 },
  wsPingIntervalMs: { type: 'integer', minimum: 0 },
  wsPongTimeoutMs: { type: 'integer', minimum: 100 },
  authFailuresPerIp: positiveInt,
  maxDeliveriesPerTenantPerSecond: { type: 'integer', minimum: 0 },
} as const;
