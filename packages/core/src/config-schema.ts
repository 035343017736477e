// The relay config's JSON schema (ajv, strict): every key, its type and range. Unknown keys fail
// with their path; config.ts fills in the defaults after validation.
import { agentConfigSchema } from './config-agent.js';
import { hardeningSchema } from './hardening-config.js';
import { presenceConfigSchema } from './presence-config.js';
import { bridgesConfigSchema, mqttConfigSchema } from './config-connectors.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Shortest master / operator token accepted at start-up. */
export const MIN_SECRET_LENGTH = 32;

const positiveInt = { type: 'integer', minimum: 1 } as const;
const nonBlank = { type: 'string', minLength: 1, pattern: '\\S' } as const;

export const relayConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['masterToken'],
  properties: {
    listen: {
      type: 'object',
      additionalProperties: false,
      properties: { host: nonBlank, port: { type: 'integer', minimum: 0, maximum: 65535 } },
    },
    // A master token guesses every tenant's tokens into existence: 32 characters at least.
    masterToken: { type: 'string', minLength: MIN_SECRET_LENGTH, pattern: '^\\S+$' },
    region: nonBlank,
    dataDir: nonBlank,
    location: {
      type: 'object',
      additionalProperties: false,
      required: ['lat', 'lon'],
      properties: {
        lat: { type: 'number', minimum: -90, maximum: 90 },
        lon: { type: 'number', minimum: -180, maximum: 180 },
        city: { type: 'string', minLength: 1, maxLength: 64 },
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['certFile', 'keyFile'],
      properties: { certFile: nonBlank, keyFile: nonBlank },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxPayloadBytes: { type: 'integer', minimum: 0, maximum: 65535 },
        maxSubscriptionsPerConnection: positiveInt,
        maxConnections: positiveInt,
        outboundQueueBytes: { type: 'integer', minimum: 64 * KiB },
        slowConsumerPolicy: { enum: ['drop-oldest', 'disconnect'] },
        socketHighWaterMarkBytes: positiveInt,
        maxHttpBodyBytes: positiveInt,
        // 0: unlimited (for benchmarks and trusted internal networks); else the token range.
        defaultIngressKbPerSec: { anyOf: [{ const: 0 }, { type: 'integer', minimum: 8, maximum: 16384 }] },
        defaultEgressKbPerSec: { anyOf: [{ const: 0 }, { type: 'integer', minimum: 8, maximum: 16384 }] },
        ...hardeningSchema,
      },
    },
    reconnectGraceMs: { type: 'integer', minimum: 0 },
    shutdownGraceMs: { type: 'integer', minimum: 0 },
    logLevel: { enum: ['debug', 'info', 'warn', 'error', 'silent'] },
    discovery: {
      type: 'object',
      additionalProperties: false,
      properties: { edges: { type: 'array', minItems: 1, items: nonBlank } },
    },
    quic: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        listen: {
          type: 'object',
          additionalProperties: false,
          properties: { host: nonBlank, port: { type: 'integer', minimum: 0, maximum: 65535 } },
        },
        certFile: nonBlank,
        keyFile: nonBlank,
        streamQueueBytes: { type: 'integer', minimum: 64 * KiB },
        slowConsumerPolicy: { enum: ['drop-oldest', 'reset'] },
        streamSendBufferBytes: { type: 'integer', minimum: 16 * KiB },
        streamReceiveWindowBytes: { type: 'integer', minimum: 16 * KiB },
        connectionReceiveWindowBytes: { type: 'integer', minimum: 64 * KiB },
        idleTimeoutMs: { type: 'integer', minimum: 0 },
        authTimeoutMs: positiveInt,
        congestion: { enum: ['cubic', 'newreno', 'bbr'] },
        minCongestionWindowBytes: { type: 'integer', minimum: 0, maximum: 64 * MiB },
        ackMaxDelayMs: { type: 'integer', minimum: 0, maximum: 1000 },
      },
      dependencies: { certFile: ['keyFile'], keyFile: ['certFile'] },
    },
    mesh: {
      type: 'object',
      additionalProperties: false,
      required: ['caFile', 'certFile', 'keyFile'],
      properties: {
        listen: {
          type: 'object',
          additionalProperties: false,
          properties: { host: nonBlank, port: { type: 'integer', minimum: 0, maximum: 65535 } },
        },
        advertise: { type: 'string', pattern: '^\\S+:\\d{1,5}$' },
        caFile: nonBlank,
        certFile: nonBlank,
        keyFile: nonBlank,
        seeds: { type: 'array', items: { type: 'string', pattern: '^\\S+:\\d{1,5}$' } },
        peerExchange: { type: 'boolean' },
        probeIntervalMs: { type: 'integer', minimum: 10 },
        deadAfterMs: { type: 'integer', minimum: 50 },
        linkQueueBytes: { type: 'integer', minimum: 64 * KiB },
        redundantChannels: { type: 'array', items: nonBlank },
        publicIntrospection: { type: 'boolean' },
        switchMarginMs: { type: 'number', minimum: 0 },
        switchMarginRatio: { type: 'number', minimum: 0 },
        switchHoldMs: { type: 'integer', minimum: 0 },
        tcpListen: { type: 'boolean' },
        agent: agentConfigSchema,
      },
    },
    mqtt: mqttConfigSchema,
    bridges: bridgesConfigSchema,
    presence: presenceConfigSchema,
    control: {
      type: 'object',
      additionalProperties: false,
      required: ['urls', 'token'],
      properties: {
        urls: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^https?://\\S+$' } },
        token: { type: 'string', minLength: 1, pattern: '^\\S+$' },
        caFile: nonBlank,
        popId: { type: 'string', pattern: '^[A-Za-z0-9_.~@-]{1,128}$' },
        ipAttemptsPerSecond: { type: 'number', minimum: 0 },
        heartbeatMs: { type: 'integer', minimum: 100 },
        usageReportMs: { type: 'integer', minimum: 100 },
        webhooksAllowHttp: { type: 'boolean' },
      },
    },
  },
} as const;
