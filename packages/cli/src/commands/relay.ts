// `fastpubsub relay`: runs one relay until SIGTERM/SIGINT. Settings come from, in rising
// precedence, the defaults, a JSON config file, FASTPUBSUB_MASTER_TOKEN and the flags; the
// merged result is validated strictly (unknown keys fail with their path) before anything binds.
import { readFile } from 'node:fs/promises';

import { FlagError, MESH_DEFAULTS, PRESENCE_DEFAULTS, QUIC_DEFAULTS, RELAY_DEFAULTS, isFpsError, parseFlags, resolveRelayConfig, waitForStopSignal, type RelayConfigInput } from '@fastpubsub/core';

const d = RELAY_DEFAULTS;
const q = QUIC_DEFAULTS;
const m = MESH_DEFAULTS;
const pr = PRESENCE_DEFAULTS;
const USAGE = `Usage: fastpubsub relay --listen HOST:PORT --master-token TOKEN [options]

Runs a FastPubSub relay: WebSocket edge (contract v0.1) and REST on one TCP port, the QUIC
edge on a UDP port (default: the HTTP port + 1), and optionally the relay mesh (UDP).

Options:
  --listen HOST:PORT    address to serve on (default ${d.listen.host}:${d.listen.port}; port 0 = any free port)
  --quic-listen HOST:PORT
                        UDP address of the QUIC edge (default: the --listen host, its port + 1)
  --no-quic             no QUIC edge
  --master-token TOKEN  admin secret for the token REST calls, 32+ characters (or env FASTPUBSUB_MASTER_TOKEN)
  --config FILE         JSON config file; flags override its values
  --data-dir DIR        where tokens are stored (default ${d.dataDir})
  --region R            this edge's region for token restrictions (default ${d.region})
  --tls-cert FILE       PEM certificate; with --tls-key serves https:// and wss://
  --tls-key FILE        PEM private key
  --mqtt-listen HOST:PORT  also serve MQTT 3.1.1/5.0 on this TCP address (docs/mqtt.md)
  --log-level L         debug | info | warn | error | silent (default ${d.logLevel})
  -h, --help            show this help

Config file keys (JSON, unknown keys are errors): listen {host, port}, masterToken, region,
dataDir, tls {certFile, keyFile}, limits {maxPayloadBytes (${d.limits.maxPayloadBytes}),
maxSubscriptionsPerConnection (${d.limits.maxSubscriptionsPerConnection}), maxConnections (${d.limits.maxConnections}),
outboundQueueBytes (${d.limits.outboundQueueBytes}), slowConsumerPolicy (${d.limits.slowConsumerPolicy} | disconnect),
socketHighWaterMarkBytes (${d.limits.socketHighWaterMarkBytes}), maxHttpBodyBytes (${d.limits.maxHttpBodyBytes}),
defaultIngressKbPerSec (${d.limits.defaultIngressKbPerSec}), defaultEgressKbPerSec (${d.limits.defaultEgressKbPerSec}): the
per-connection rate written into tokens minted without one, 8–16384 KB/s,
and the hardening limits of docs/security.md: maxPreAuthConnections (${d.limits.maxPreAuthConnections}),
maxConnectionsPerIp (${d.limits.maxConnectionsPerIp}), handshakeTimeoutMs (${d.limits.handshakeTimeoutMs}), fdReserve (${d.limits.fdReserve}),
maxConnectionsPerTenant (${d.limits.maxConnectionsPerTenant}), maxSubscriptionsPerTenant (${d.limits.maxSubscriptionsPerTenant}),
maxWildcardPatternsPerTenant (${d.limits.maxWildcardPatternsPerTenant}), maxPatternTokens (${d.limits.maxPatternTokens}),
maxPatternWildcards (${d.limits.maxPatternWildcards}), maxDeliveryPatterns (${d.limits.maxDeliveryPatterns}),
maxDeliveriesPerTenantPerSecond (${d.limits.maxDeliveriesPerTenantPerSecond}), wsMessageTimeoutMs (${d.limits.wsMessageTimeoutMs}),
wsPingIntervalMs (${d.limits.wsPingIntervalMs}), wsPongTimeoutMs (${d.limits.wsPongTimeoutMs}), authFailuresPerIp (${d.limits.authFailuresPerIp})},
reconnectGraceMs (${d.reconnectGraceMs}), shutdownGraceMs (${d.shutdownGraceMs}), logLevel, discovery {edges},
quic {enabled (true), listen {host, port}, certFile, keyFile (default: the tls files, else a
  self-signed CA generated into dataDir/quic/ca.pem), streamQueueBytes (${q.streamQueueBytes}),
  slowConsumerPolicy (${q.slowConsumerPolicy} | reset), streamSendBufferBytes (${q.streamSendBufferBytes}),
  streamReceiveWindowBytes (${q.streamReceiveWindowBytes}), connectionReceiveWindowBytes (${q.connectionReceiveWindowBytes}),
  idleTimeoutMs (${q.idleTimeoutMs}), authTimeoutMs (${q.authTimeoutMs}), congestion (${q.congestion} | newreno | bbr),
  minCongestionWindowBytes (${q.minCongestionWindowBytes}), ackMaxDelayMs (${q.ackMaxDelayMs})},
mesh {caFile, certFile, keyFile (required; 'fastpubsub mesh init'), listen {host, port} (default:
  the HTTP port + 2), advertise, seeds ([]), peerExchange (${m.peerExchange}), probeIntervalMs (${m.probeIntervalMs}),
  deadAfterMs (${m.deadAfterMs}), linkQueueBytes (${m.linkQueueBytes}), redundantChannels ([]), switchMarginMs (${m.switchMarginMs}),
  switchMarginRatio (${m.switchMarginRatio}), switchHoldMs (${m.switchHoldMs}), tcpListen (${m.tcpListen}: also serve edge
  agents without UDP over WebSocket/TLS, docs/agent.md)},
control {urls (required), token (required: the PoP token), caFile (CA of the control plane's HTTPS certificate), popId, ipAttemptsPerSecond (0),
  heartbeatMs (2000), usageReportMs (5000), webhooksAllowHttp (false; docs/webhooks.md)}. mqtt {listen {host, port}, ...} (docs/mqtt.md), bridges [...] (docs/bridges.md).
location {lat, lon, city} (this PoP on the live map; docs/console.md).
presence {batchIntervalMs (${pr.batchIntervalMs}, 5–1000, at most heartbeatMs / 2), heartbeatMs (${pr.heartbeatMs}, 100–60000),
  deadAfterHeartbeats (${pr.deadAfterHeartbeats}, 1.1–10: a silent PoP's members go after this many heartbeats),
  eventThreshold (${pr.eventThreshold}: above it watchers get batched counts), maxMemberDataBytes (${pr.maxMemberDataBytes}, 0–4096)}.
See docs/quic-edge.md, docs/mesh.md, docs/control-plane.md, docs/security.md, docs/presence.md.

SIGTERM or SIGINT: clients are sent RECONNECT and served during the grace period, then the
relay stops and exits 0.
`;

export class UsageError extends Error {}

// Structurally main.ts's Command; importing that type from main.ts would be an import cycle
// (main.ts loads this module), which `npm run check` (madge) rejects.
export const command: { summary: string; run(argv: string[]): Promise<number> } = {
  summary: 'run a relay (WebSocket edge and REST on one port)',
  async run(argv) {
    let input: RelayConfigInput;
    try {
      const flags = parse(argv);
      if (flags === 'help') {
        process.stdout.write(USAGE);
        return 0;
      }
      const raw = await buildRelayInput(flags, process.env);
      try {
        resolveRelayConfig(raw); // fail on config problems before loading the relay
      } catch (err) {
        if (isFpsError(err) && flags.config !== undefined) throw new Error(`${err.message} (config file ${flags.config} and flags)`);
        throw err;
      }
      input = raw as RelayConfigInput;
    } catch (err) {
      return fail(err);
    }

    const { startRelay } = await import('@fastpubsub/relay');
    let relay;
    try {
      relay = await startRelay(input);
    } catch (err) {
      return fail(err);
    }
    const quic = relay.quicPort === undefined ? '' : `, QUIC edge on UDP port ${relay.quicPort}`;
    process.stdout.write(`fastpubsub relay listening on ${relay.httpUrl} (${relay.wsUrl})${quic}\n`);

    // A second signal means "now": skip the rest of the grace period.
    const stop = await waitForStopSignal();
    process.stderr.write(`fastpubsub relay: ${stop.signal}, shutting down\n`);
    await relay.close();
    stop.release();
    return 0;
  },
};

function fail(err: unknown): number {
  process.stderr.write(`fastpubsub relay: ${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof UsageError || err instanceof FlagError) {
    process.stderr.write("Run 'fastpubsub relay --help' for the options.\n");
    return 2;
  }
  return 1;
}

function parse(argv: string[]): ParsedFlags | 'help' {
  const { values, positionals } = parseFlags({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      listen: { type: 'string' },
      'quic-listen': { type: 'string' },
      'no-quic': { type: 'boolean' },
      'master-token': { type: 'string' },
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      region: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'log-level': { type: 'string' },
      'mqtt-listen': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0] ?? ''}'`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  if (values['no-quic'] === true && values['quic-listen'] !== undefined) throw new UsageError('--quic-listen and --no-quic exclude each other');
  return values;
}

type ParsedFlags = Partial<Record<'listen' | 'quic-listen' | 'master-token' | 'config' | 'data-dir' | 'region' | 'tls-cert' | 'tls-key' | 'log-level' | 'mqtt-listen', string>> & {
  'no-quic'?: boolean;
};

/** Exported for the CLI's own tests: flags and file → one config input, not yet validated. */
export async function buildRelayInput(flags: ParsedFlags, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = flags.config === undefined ? {} : await readConfigFile(flags.config);
  const fromEnv = env['FASTPUBSUB_MASTER_TOKEN'];
  const masterToken = flags['master-token'] ?? (fromEnv === '' ? undefined : fromEnv); // set-but-empty = unset
  if (masterToken !== undefined) input['masterToken'] = masterToken;
  if (input['masterToken'] === undefined) {
    throw new UsageError('a master token is required: --master-token TOKEN or env FASTPUBSUB_MASTER_TOKEN');
  }
  if (flags.listen !== undefined) input['listen'] = { ...asObject(input['listen']), ...parseListen(flags.listen, 'listen') };
  if (flags['quic-listen'] !== undefined) {
    const quic = asObject(input['quic']);
    input['quic'] = { ...quic, enabled: true, listen: { ...asObject(quic['listen']), ...parseListen(flags['quic-listen'], 'quic-listen') } };
  }
  if (flags['no-quic'] === true) input['quic'] = { ...asObject(input['quic']), enabled: false };
  if (flags['mqtt-listen'] !== undefined) {
    const mqtt = asObject(input['mqtt']);
    input['mqtt'] = { ...mqtt, listen: { ...asObject(mqtt['listen']), ...parseListen(flags['mqtt-listen'], 'mqtt-listen') } };
  }
  if (flags['data-dir'] !== undefined) input['dataDir'] = flags['data-dir'];
  if (flags.region !== undefined) input['region'] = flags.region;
  if (flags['log-level'] !== undefined) input['logLevel'] = flags['log-level'];
  if (flags['tls-cert'] !== undefined && flags['tls-key'] !== undefined) {
    input['tls'] = { certFile: flags['tls-cert'], keyFile: flags['tls-key'] };
  }
  return input;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`config file ${path} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function parseListen(text: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (m === null || host === undefined || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`--${flag} must be HOST:PORT (e.g. 127.0.0.1:7700), got '${text}'`);
  }
  return { host, port };
}
