// `fastpubsub relay`: runs one relay until SIGTERM/SIGINT. Settings come from, in rising
// precedence, the defaults, a JSON config file, FASTPUBSUB_MASTER_TOKEN and the flags; the
// merged result is validated strictly (unknown keys fail with their path) before anything binds.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { RELAY_DEFAULTS, isFpsError, resolveRelayConfig, waitForStopSignal, type RelayConfigInput } from '@fastpubsub/core';

const d = RELAY_DEFAULTS;
const USAGE = `Usage: fastpubsub relay --listen HOST:PORT --master-token TOKEN [options]

Runs a FastPubSub relay: WebSocket edge (contract v0.1) and REST on one port.

Options:
  --listen HOST:PORT    address to serve on (default ${d.listen.host}:${d.listen.port}; port 0 = any free port)
  --master-token TOKEN  admin secret for the token REST calls (or env FASTPUBSUB_MASTER_TOKEN)
  --config FILE         JSON config file; flags override its values
  --data-dir DIR        where tokens are stored (default ${d.dataDir})
  --region R            this edge's region for token restrictions (default ${d.region})
  --tls-cert FILE       PEM certificate; with --tls-key serves https:// and wss://
  --tls-key FILE        PEM private key
  --log-level L         debug | info | warn | error | silent (default ${d.logLevel})
  -h, --help            show this help

Config file keys (JSON, unknown keys are errors): listen {host, port}, masterToken, region,
dataDir, tls {certFile, keyFile}, limits {maxPayloadBytes (${d.limits.maxPayloadBytes}),
maxSubscriptionsPerConnection (${d.limits.maxSubscriptionsPerConnection}), maxConnections (${d.limits.maxConnections}),
outboundQueueBytes (${d.limits.outboundQueueBytes}), slowConsumerPolicy (${d.limits.slowConsumerPolicy} | disconnect),
socketHighWaterMarkBytes (${d.limits.socketHighWaterMarkBytes}), maxHttpBodyBytes (${d.limits.maxHttpBodyBytes})},
reconnectGraceMs (${d.reconnectGraceMs}), shutdownGraceMs (${d.shutdownGraceMs}), logLevel, discovery {edges},
location {lat, lon, city} (this PoP on the live map; docs/console.md).

SIGTERM or SIGINT: clients are sent RECONNECT and served during the grace period, then the
relay stops and exits 0.
`;

class UsageError extends Error {}

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
    process.stdout.write(`fastpubsub relay listening on ${relay.httpUrl} (${relay.wsUrl})\n`);

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
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write("Run 'fastpubsub relay --help' for the options.\n");
    return 2;
  }
  return 1;
}

function parse(argv: string[]): ParsedFlags | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      listen: { type: 'string' },
      'master-token': { type: 'string' },
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      region: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0] ?? ''}'`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  return values as ParsedFlags;
}

type ParsedFlags = Partial<Record<'listen' | 'master-token' | 'config' | 'data-dir' | 'region' | 'tls-cert' | 'tls-key' | 'log-level', string>>;

/** Exported for the CLI's own tests: flags and file → one config input, not yet validated. */
export async function buildRelayInput(flags: ParsedFlags, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = flags.config === undefined ? {} : await readConfigFile(flags.config);
  const fromEnv = env['FASTPUBSUB_MASTER_TOKEN'];
  const masterToken = flags['master-token'] ?? (fromEnv === '' ? undefined : fromEnv); // set-but-empty = unset
  if (masterToken !== undefined) input['masterToken'] = masterToken;
  if (input['masterToken'] === undefined) {
    throw new UsageError('a master token is required: --master-token TOKEN or env FASTPUBSUB_MASTER_TOKEN');
  }
  if (flags.listen !== undefined) input['listen'] = { ...asObject(input['listen']), ...parseListen(flags.listen) };
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

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (m === null || host === undefined || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`--listen must be HOST:PORT (e.g. 127.0.0.1:7700), got '${text}'`);
  }
  return { host, port };
}
