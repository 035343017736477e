// Relay configuration: one schema, one table of defaults, validated strictly at start-up.
// Every object in the schema has `additionalProperties: false`, so a typo in a config file
// (`maxPayloadByte`) fails loudly with its path instead of silently falling back to a default.
import { Ajv } from 'ajv';
import { describe } from './config-errors.js';
import { relayConfigSchema } from './config-schema.js';
import { ErrorCode, FpsError } from './errors.js';
import type { LogLevel } from './logger.js';
import { HARDENING_DEFAULTS, type HardeningLimits } from './hardening-config.js';
import { resolvePresence, type PresenceConfig } from './presence-config.js';
import { AGENT_DEFAULTS, type AgentConfig } from './config-agent.js';
import { resolveBridges, resolveMqtt, type BridgeConfig, type BridgeConfigInput, type MqttEdgeConfig } from './config-connectors.js';

export type SlowConsumerPolicy = 'drop-oldest' | 'disconnect';

export interface RelayConfig {
  listen: { host: string; port: number };
  /** Bearer secret for the token REST calls (contract §7). */
  masterToken: string;
  /** This edge's region, checked against a token's `allow_regions` (contract §7). */
  region: string;
  /** Where the embedded token store keeps its files. */
  dataDir: string;
  /** Where this PoP is on the map (published with its network state; docs/console.md). */
  location?: RelayLocation;
  /** With a certificate and key, the same port serves https:// and wss://. */
  tls?: { certFile: string; keyFile: string };
  limits: {
    maxPayloadBytes: number;
    maxSubscriptionsPerConnection: number;
    maxConnections: number;
    /** Per-connection outbound queue bound (contract §10.8: drop above ~4 MiB buffered). */
    outboundQueueBytes: number;
    slowConsumerPolicy: SlowConsumerPolicy;
    /** Bytes the kernel socket may hold before deliveries go to the outbound queue instead. */
    socketHighWaterMarkBytes: number;
    /** REST request bodies above this get 413. */
    maxHttpBodyBytes: number;
    /**
     * KB/s (1024 bytes) written into a token minted without `ingress_kb_per_sec` /
     * `egress_kb_per_sec` (contract §11.7), per connection. Shipped as 16384, the documented
     * maximum, so clients that never set the fields are not throttled; 8 is the SDK docs' figure.
     * 0 means unlimited (stored as 0 in the token).
     */
    defaultIngressKbPerSec: number;
    defaultEgressKbPerSec: number;
  } & HardeningLimits;
  /** How long a connection told to RECONNECT keeps being served (contract §10.9). */
  reconnectGraceMs: number;
  /** Hard upper bound on a graceful shutdown, close handshakes included. */
  shutdownGraceMs: number;
  logLevel: LogLevel;
  /** The document served at GET /v1/edges (contract §8): bare `host[:port]` strings. */
  discovery: { edges: string[] };
  /**
   * A control plane (packages/control). With it, tokens are signed tickets verified locally,
   * the token REST calls are forwarded to it, limits are enforced; without it, the relay keeps
   * its standalone token service.
   */
  control?: ControlConfig;
  /** The QUIC edge (docs/quic-edge.md): one stream per subscription, UDP. */
  quic: QuicEdgeConfig;
  /** The relay mesh (docs/mesh.md): QUIC links to other relays; absent = a standalone relay. */
  mesh?: MeshConfig;
  /** The MQTT listener (docs/mqtt.md); absent = no MQTT. */
  mqtt?: MqttEdgeConfig;
  /** NATS and Redis bridges carried by this PoP (docs/bridges.md). */
  bridges: BridgeConfig[];
  /** Presence timings and limits (docs/presence.md). */
  presence: PresenceConfig;
}

export interface MeshConfig {
  /** UDP address of the mesh endpoint. Default: the HTTP host, and its port + 2 (0 when the HTTP port is 0). */
  listen: { host: string; port: number };
  /** host:port other relays can dial (sent to peers for peer exchange); default none. */
  advertise?: string;
  /** Mesh CA and this relay's certificate and key (`fastpubsub mesh init`); the relay id is the certificate's. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Mesh addresses (host:port) to dial at start. */
  seeds: string[];
  /** Dial relays that peers tell us about. Off behind a link emulator, where only emulated paths may be used. */
  peerExchange: boolean;
  /** Probe period per link. */
  probeIntervalMs: number;
  /** No probe answer for this long declares a link dead (failover within about this time). */
  deadAfterMs: number;
  /** Per-link bound on queued FWD bytes (drop-oldest beyond). */
  linkQueueBytes: number;
  /** Channel patterns sent over two disjoint paths (first copy delivered). */
  redundantChannels: string[];
  /** /v1/mesh/links and /v1/mesh/routes answer without the master token. */
  publicIntrospection: boolean;
  /** Route hysteresis: switch next hop only when better by max(marginMs, marginRatio × cost) for holdMs. */
  switchMarginMs: number;
  switchMarginRatio: number;
  switchHoldMs: number;
  /** Also serve the mesh over WebSocket on TLS (TCP, same host and port number) for edge agents without UDP. */
  tcpListen: boolean;
  /** Present on an edge agent (docs/agent.md): outbound only, one tunnel to the nearest of `seeds`. */
  agent?: AgentConfig;
}

export type QuicSlowConsumerPolicy = 'drop-oldest' | 'reset';

export interface QuicEdgeConfig {
  enabled: boolean;
  /** UDP address. Default: the HTTP host, and its port + 1 (0 when the HTTP port is 0). */
  listen: { host: string; port: number };
  /** PEM files; default the relay's `tls` files, else a self-signed certificate generated into dataDir. */
  certFile?: string;
  keyFile?: string;
  /** Per-subscription-stream outbound queue bound, above the transport's own buffer. */
  streamQueueBytes: number;
  /** A full stream queue drops its oldest messages (counted) or resets that stream only. */
  slowConsumerPolicy: QuicSlowConsumerPolicy;
  /** Bytes buffered per stream in the transport before write() says stop (then the queue fills). */
  streamSendBufferBytes: number;
  /** Receive window per stream we accept (control stream): well below the connection window. */
  streamReceiveWindowBytes: number;
  /** Receive window of a whole connection. */
  connectionReceiveWindowBytes: number;
  /** A connection with no packets for this long is closed. */
  idleTimeoutMs: number;
  /** A connection that has not authenticated within this long is closed. */
  authTimeoutMs: number;
  /** Congestion controller of the relay's sending side (docs/quic-edge.md "Loss recovery"). */
  congestion: 'cubic' | 'newreno' | 'bbr';
  /** Congestion-window floor, bytes; 0 = RFC 9002 §7.2's 2 datagrams. */
  minCongestionWindowBytes: number;
  /** max_ack_delay the relay asks each client for (ACK-frequency extension), ms; 0 = don't ask (clients keep 25 ms). */
  ackMaxDelayMs: number;
}

/** A PoP's place on the network map. */
export interface RelayLocation {
  /** Degrees, -90..90. */
  lat: number;
  /** Degrees, -180..180. */
  lon: number;
  city?: string;
}

export interface ControlConfig {
  /** Control service base URLs, e.g. `http://127.0.0.1:7800`; several instances in etcd mode. */
  urls: string[];
  /** Bearer credential of this PoP towards the control service. */
  token: string;
  /** PEM CA bundle the control plane's HTTPS certificate must chain to (unset: the system CAs). */
  caFile?: string;
  /** This PoP's id in the registry; default `{region}-{host}-{port}`. */
  popId?: string;
  /** Connection attempts per second per client IP; 0 = unlimited (default). */
  ipAttemptsPerSecond?: number;
  /** How often the PoP heartbeats its registration, in ms (default 2000). */
  heartbeatMs?: number;
  /** How often the PoP reports usage, in ms (default 5000). */
  usageReportMs?: number;
  /** Outbound webhooks may POST to http:// targets beyond loopback (default false: https only). */
  webhooksAllowHttp?: boolean;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** What a caller or a config file may give; everything but `masterToken` has a default. */
export type RelayConfigInput = DeepPartial<Omit<RelayConfig, 'masterToken' | 'tls' | 'control' | 'quic' | 'mesh' | 'mqtt' | 'bridges' | 'location' | 'presence'>> & {
  presence?: Partial<PresenceConfig>;
  location?: RelayLocation;
  quic?: DeepPartial<QuicEdgeConfig>;
  mqtt?: DeepPartial<MqttEdgeConfig>;
  bridges?: BridgeConfigInput[];
  mesh?: DeepPartial<MeshConfig> & Pick<MeshConfig, 'caFile' | 'certFile' | 'keyFile'>;
  masterToken: string;
  tls?: { certFile: string; keyFile: string };
  control?: ControlConfig;
};

const KiB = 1024;
const MiB = 1024 * KiB;

/** The one place defaults live. `discovery.edges` defaults to this relay's own host:port. */
/** QUIC edge defaults; `listen` is derived from the HTTP listen address (see resolveRelayConfig). */
export const QUIC_DEFAULTS: Readonly<Omit<QuicEdgeConfig, 'listen' | 'certFile' | 'keyFile'>> = Object.freeze({
  enabled: true,
  streamQueueBytes: 1 * MiB,
  slowConsumerPolicy: 'drop-oldest',
  // 256 KiB per stream against an 8 MiB connection window: one stalled stream holds at most
  // 1/32 of the connection's credit, so it can never freeze its siblings (HOL isolation).
  streamSendBufferBytes: 256 * KiB,
  streamReceiveWindowBytes: 256 * KiB,
  connectionReceiveWindowBytes: 8 * MiB,
  idleTimeoutMs: 10_000,
  authTimeoutMs: 5000,
  // Loss recovery, tuned for latency (measured: docs/benchmarks.md bench:loss). Cubic as RFC 9002
  // §7 allows any controller; random loss is what the tail is made of, not congestion.
  congestion: 'cubic' as const,
  // RFC 9002 §7.2 lets the window fall to 2 datagrams on every loss; under random loss it stays
  // there and each lost ACK then costs a PTO (p99 171 ms at 10 % loss). A 64 KiB floor keeps a
  // pub/sub edge's fan-out in flight; pacing (§7.7) still spreads it. Deliberate departure.
  minCongestionWindowBytes: 64 * KiB,
  // RFC 9002 §6.2.1: PTO = smoothed_rtt + max(4·rttvar, kGranularity) + max_ack_delay; with the
  // client's 25 ms default the max_ack_delay term dominates on short paths. 1 ms is quinn's timer
  // granularity (§6.1.2 kGranularity), the smallest that may be requested.
  ackMaxDelayMs: 1,
});

/** Mesh defaults (docs/mesh.md); `listen` is derived from the HTTP listen address. */
export const MESH_DEFAULTS: Readonly<Omit<MeshConfig, 'listen' | 'advertise' | 'caFile' | 'certFile' | 'keyFile'>> = Object.freeze({
  seeds: [],
  peerExchange: true,
  // One probe per link every 100 ms (10 small datagrams/s) and a link dead after two periods
  // without an answer: a relay's death costs ~0.3 s of traffic on routes through it
  // (bench:failover). The price: a relay whose event loop stalls longer than the dead timer
  // has its links declared dead until 3 answers (~0.3 s) bring them back.
  probeIntervalMs: 100,
  /** Default: twice the probe interval (DEAD_AFTER_PROBES), computed in resolveMesh. */
  deadAfterMs: 200,
  linkQueueBytes: 4 * MiB,
  redundantChannels: [],
  publicIntrospection: false,
  switchMarginMs: 1,
  switchMarginRatio: 0.05,
  switchHoldMs: 2000,
  tcpListen: false,
});

type RelayDefaults = Omit<RelayConfig, 'masterToken' | 'tls' | 'discovery' | 'control' | 'quic' | 'bridges' | 'presence'>;

export const RELAY_DEFAULTS: Readonly<RelayDefaults> = Object.freeze<RelayDefaults>({
  listen: { host: '127.0.0.1', port: 7700 },
  region: 'LOCAL',
  dataDir: '.fastpubsub/relay',
  limits: {
    maxPayloadBytes: 65535, // contract §5
    maxSubscriptionsPerConnection: 1000,
    maxConnections: 10000,
    outboundQueueBytes: 4 * MiB, // contract §10.8
    slowConsumerPolicy: 'drop-oldest',
    socketHighWaterMarkBytes: 256 * KiB,
    maxHttpBodyBytes: 64 * KiB,
    defaultIngressKbPerSec: 16384, // contract §11.7: the documented maximum
    defaultEgressKbPerSec: 16384,
    ...HARDENING_DEFAULTS,
  },
  reconnectGraceMs: 10_000, // contract §10.9: at least 10 s
  shutdownGraceMs: 15_000,
  logLevel: 'info',
});


export { MIN_SECRET_LENGTH, relayConfigSchema } from './config-schema.js';

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(relayConfigSchema);

/** Validates a config object (from code, a file or flags) and fills in every default. */
export function resolveRelayConfig(input: unknown): RelayConfig {
  if (!validate(input)) {
    const problems = (validate.errors ?? []).map(describe);
    throw new FpsError(ErrorCode.ConfigInvalid, `invalid relay config: ${problems.join('; ')}`, {
      detail: problems.join('\n'),
    });
  }
  const given = input as RelayConfigInput;
  const d = RELAY_DEFAULTS;
  const listen = { ...d.listen, ...given.listen };
  const config: RelayConfig = {
    listen,
    masterToken: given.masterToken,
    region: given.region ?? d.region,
    dataDir: given.dataDir ?? d.dataDir,
    limits: { ...d.limits, ...given.limits },
    reconnectGraceMs: given.reconnectGraceMs ?? d.reconnectGraceMs,
    shutdownGraceMs: given.shutdownGraceMs ?? d.shutdownGraceMs,
    logLevel: given.logLevel ?? d.logLevel,
    discovery: { edges: given.discovery?.edges ?? [`${listen.host}:${listen.port}`] },
    quic: resolveQuic(given.quic, listen),
    bridges: resolveBridges(given.bridges ?? []),
    presence: resolvePresence(given.presence),
  };
  if (given.mqtt !== undefined) config.mqtt = resolveMqtt(given.mqtt, listen.host);
  if (given.tls !== undefined) config.tls = { ...given.tls };
  if (given.location !== undefined) config.location = { ...given.location };
  if (given.control !== undefined) config.control = { ...given.control, urls: [...given.control.urls] };
  if (given.mesh !== undefined) config.mesh = resolveMesh(given.mesh, listen);
  return config;
}

function resolveMesh(given: NonNullable<RelayConfigInput['mesh']>, listen: { host: string; port: number }): MeshConfig {
  const probeIntervalMs = given.probeIntervalMs ?? MESH_DEFAULTS.probeIntervalMs;
  const m: MeshConfig = {
    ...MESH_DEFAULTS,
    // The dead timer follows the probe interval unless set: a link is dead after two silent periods.
    deadAfterMs: Math.max(50, 2 * probeIntervalMs),
    ...given,
    seeds: [...(given.seeds ?? MESH_DEFAULTS.seeds)],
    redundantChannels: [...(given.redundantChannels ?? MESH_DEFAULTS.redundantChannels)],
    listen: {
      host: given.listen?.host ?? listen.host,
      port: given.listen?.port ?? (listen.port === 0 || listen.port > 65533 ? 0 : listen.port + 2),
    },
  };
  if (given.advertise === undefined) delete m.advertise;
  if (given.agent !== undefined) m.agent = { ...AGENT_DEFAULTS, ...given.agent };
  return m;
}

function resolveQuic(given: RelayConfigInput['quic'], listen: { host: string; port: number }): QuicEdgeConfig {
  const q: QuicEdgeConfig = {
    ...QUIC_DEFAULTS,
    ...given,
    listen: {
      host: given?.listen?.host ?? listen.host,
      port: given?.listen?.port ?? (listen.port === 0 ? 0 : listen.port === 65535 ? 0 : listen.port + 1),
    },
  };
  if (given?.certFile === undefined) delete q.certFile;
  if (given?.keyFile === undefined) delete q.keyFile;
  return q;
}
