// Config of the connectors to systems customers already run: the MQTT listener of a PoP
// (docs/mqtt.md) and the NATS / Redis bridges (docs/bridges.md). Kept apart from config.ts so
// the core relay schema stays readable; config.ts embeds these schema parts and resolvers.

export interface MqttEdgeConfig {
  /** TCP address of the MQTT 3.1.1 / 5.0 listener. */
  listen: { host: string; port: number };
  /** A packet whose remaining length exceeds this is refused (MQTT 5: 0x95) and the connection closed. */
  maxPacketBytes: number;
  /** Unacknowledged QoS 1 deliveries per session; further ones wait in the session queue. */
  maxInflight: number;
  /** Deliveries a session may hold waiting (inflight full or offline persistent session); above: dropped and counted. */
  maxQueuedMessages: number;
  /** Persistent (clean = false) sessions kept in memory while their client is away. */
  maxOfflineSessions: number;
  /** How long an offline persistent session is kept at most (MQTT 5 may ask for less). */
  sessionExpiryMs: number;
  /** Retained messages kept per relay, and their total payload bytes. */
  maxRetained: number;
  maxRetainedBytes: number;
  /** SUBSCRIBE packets per connection per second (token bucket, burst = rate); above: refused with quota exceeded. */
  subscribesPerSecond: number;
  /** A connection that sends no CONNECT within this is closed. */
  connectTimeoutMs: number;
}

export type BridgeDirection = 'in' | 'out' | 'both';

export interface BridgeMapping {
  /** NATS subject pattern (`sensors.>`) or Redis channel pattern (`sensors.*`). */
  external: string;
  /** FastPubSub channel pattern (`sensors.#`). */
  channel: string;
  direction: BridgeDirection;
}

export interface BridgeConfig {
  /** Names the bridge: the loop mark, the metrics label and the carrier election key. */
  id: string;
  /** `nats://host:port` or `redis://host:port`. */
  url: string;
  tenant: string;
  mappings: BridgeMapping[];
  /** Reconnect backoff to the external system: doubles from minMs up to maxMs. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export type BridgeConfigInput = Omit<BridgeConfig, 'reconnectMinMs' | 'reconnectMaxMs'> & { reconnectMinMs?: number; reconnectMaxMs?: number };

const KiB = 1024;
const MiB = 1024 * KiB;

export const MQTT_DEFAULTS: Readonly<Omit<MqttEdgeConfig, 'listen'>> = Object.freeze({
  // A 65535-byte payload (contract §5) plus a 256-byte topic and MQTT 5 properties.
  maxPacketBytes: 68 * KiB,
  maxInflight: 64,
  maxQueuedMessages: 1000,
  maxOfflineSessions: 10_000,
  sessionExpiryMs: 60 * 60 * 1000,
  maxRetained: 10_000,
  maxRetainedBytes: 16 * MiB,
  subscribesPerSecond: 50,
  connectTimeoutMs: 10_000,
});

const positiveInt = { type: 'integer', minimum: 1 } as const;
const nonBlank = { type: 'string', minLength: 1, pattern: '\\S' } as const;

export const mqttConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['listen'],
  properties: {
    listen: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      properties: { host: nonBlank, port: { type: 'integer', minimum: 0, maximum: 65535 } },
    },
    maxPacketBytes: { type: 'integer', minimum: 1024, maximum: 256 * MiB },
    maxInflight: { type: 'integer', minimum: 1, maximum: 65535 },
    maxQueuedMessages: positiveInt,
    maxOfflineSessions: { type: 'integer', minimum: 0 },
    sessionExpiryMs: { type: 'integer', minimum: 0 },
    maxRetained: { type: 'integer', minimum: 0 },
    maxRetainedBytes: { type: 'integer', minimum: 0 },
    subscribesPerSecond: positiveInt,
    connectTimeoutMs: positiveInt,
  },
} as const;

export const bridgesConfigSchema = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'url', 'tenant', 'mappings'],
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9_.~@-]{1,64}$' },
      url: { type: 'string', pattern: '^(nats|redis)://\\S+$' },
      tenant: nonBlank,
      mappings: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['external', 'channel', 'direction'],
          properties: { external: nonBlank, channel: nonBlank, direction: { enum: ['in', 'out', 'both'] } },
        },
      },
      reconnectMinMs: positiveInt,
      reconnectMaxMs: positiveInt,
    },
  },
} as const;

export function resolveMqtt(given: { listen?: { host?: string; port?: number } } & Partial<Omit<MqttEdgeConfig, 'listen'>>, httpHost: string): MqttEdgeConfig {
  return {
    ...MQTT_DEFAULTS,
    ...given,
    listen: { host: given.listen?.host ?? httpHost, port: given.listen?.port ?? 1883 },
  };
}

export function resolveBridges(given: readonly BridgeConfigInput[]): BridgeConfig[] {
  return given.map((b) => ({
    ...b,
    mappings: b.mappings.map((m) => ({ ...m })),
    reconnectMinMs: b.reconnectMinMs ?? 200,
    reconnectMaxMs: b.reconnectMaxMs ?? 10_000,
  }));
}
