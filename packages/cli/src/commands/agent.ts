// `fastpubsub agent`: an edge agent (docs/agent.md). A relay inside a private network whose
// mesh is one outbound tunnel to the nearest PoP of the fabric; it serves local clients on the
// WebSocket edge, HTTPS publish, QUIC and MQTT (if asked) like any relay.
import { AGENT_DEFAULTS, FlagError, isFpsError, parseFlags, resolveRelayConfig, waitForStopSignal, type RelayConfigInput } from '@fastpubsub/core';
import { UsageError, buildRelayInput } from './relay.js';

const a = AGENT_DEFAULTS;
const USAGE = `Usage: fastpubsub agent --fabric ADDR[,ADDR...] --cert FILE --key FILE --ca FILE
                        --listen HOST:PORT --master-token TOKEN [options]

Runs an edge agent: local clients connect to it (WebSocket edge, HTTPS publish, QUIC edge,
MQTT with --mqtt-listen) and it keeps one outbound, mutually authenticated QUIC tunnel to the
nearest PoP of --fabric (WebSocket over TLS on TCP when no PoP answers over QUIC, e.g. UDP
blocked; PoPs serve it with mesh.tcpListen). It opens no inbound port towards the fabric. Messages between its own
clients stay local; only channels with interest elsewhere cross the tunnel.

Options:
  --fabric ADDRS        the PoPs it may use: mesh addresses, comma-separated, each HOST:PORT or
                        quic://HOST:PORT (a PoP's mesh endpoint, its HTTP port + 2 by default)
  --cert FILE, --key FILE
                        the agent's certificate and key ('fastpubsub mesh issue-agent --tenant T');
                        the certificate names the one tenant the agent may carry
  --ca FILE             the mesh CA (the PoPs' certificates must be issued by it)
  --listen HOST:PORT    local address of the WebSocket edge and REST (port 0 = any free port)
  --mqtt-listen HOST:PORT  also serve MQTT 3.1.1/5.0 locally (docs/mqtt.md)
  --tunnel-bind HOST    local address the tunnel dials from (default 0.0.0.0)
  --master-token TOKEN  admin secret of the local token REST calls, 32+ characters (or env FASTPUBSUB_MASTER_TOKEN)
  --config FILE         JSON relay config; flags override its values. mesh.agent {probeIntervalMs
                        (${a.probeIntervalMs}), probeTimeoutMs (${a.probeTimeoutMs}), switchMarginMs (${a.switchMarginMs}),
                        switchMarginRatio (${a.switchMarginRatio}), queueMessages (${a.queueMessages}), queueBytes (${a.queueBytes})}
  --data-dir DIR        where local tokens are stored (mode 0700)
  --log-level L         debug | info | warn | error | silent
  -h, --help            show this help

SIGTERM or SIGINT: local clients are sent RECONNECT, the tunnel closes, the agent exits 0.
See docs/agent.md.
`;

export const command: { summary: string; run(argv: string[]): Promise<number> } = {
  summary: 'run an edge agent (outbound-only tunnel to the fabric)',
  async run(argv) {
    let input: RelayConfigInput;
    try {
      const parsed = parse(argv);
      if (parsed === 'help') {
        process.stdout.write(USAGE);
        return 0;
      }
      input = (await buildAgentInput(parsed, process.env)) as RelayConfigInput;
      resolveRelayConfig(input); // config problems before anything binds
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
    const mqtt = relay.mqttPort === undefined ? '' : `, MQTT on TCP port ${relay.mqttPort}`;
    process.stdout.write(`fastpubsub agent for tenant ${relay.agent?.tenant ?? '?'} listening on ${relay.httpUrl} (${relay.wsUrl})${mqtt}\n`);
    const stop = await waitForStopSignal();
    process.stderr.write(`fastpubsub agent: ${stop.signal}, shutting down\n`);
    await relay.close();
    stop.release();
    return 0;
  },
};

type AgentFlags = Partial<Record<'fabric' | 'cert' | 'key' | 'ca' | 'listen' | 'mqtt-listen' | 'tunnel-bind' | 'master-token' | 'config' | 'data-dir' | 'log-level', string>>;

function parse(argv: string[]): AgentFlags | 'help' {
  const str = { type: 'string' } as const;
  const { values, positionals } = parseFlags({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      fabric: str, cert: str, key: str, ca: str, listen: str, 'mqtt-listen': str, 'tunnel-bind': str,
      'master-token': str, config: str, 'data-dir': str, 'log-level': str,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0] ?? ''}'`);
  return values;
}

/** Flags → a relay config input with a `mesh.agent` section (not yet validated). Exported for tests. */
export async function buildAgentInput(flags: AgentFlags, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const input = await buildRelayInput(
    { ...pick(flags, ['listen', 'mqtt-listen', 'master-token', 'config', 'data-dir', 'log-level']) },
    env,
  );
  const given = (typeof input['mesh'] === 'object' && input['mesh'] !== null ? input['mesh'] : {}) as Record<string, unknown>;
  const mesh: Record<string, unknown> = { ...given };
  if (flags.ca !== undefined) mesh['caFile'] = flags.ca;
  if (flags.cert !== undefined) mesh['certFile'] = flags.cert;
  if (flags.key !== undefined) mesh['keyFile'] = flags.key;
  if (flags.fabric !== undefined) mesh['seeds'] = parseFabric(flags.fabric);
  for (const [flag, key] of [['ca', 'caFile'], ['cert', 'certFile'], ['key', 'keyFile'], ['fabric', 'seeds']] as const) {
    if (mesh[key] === undefined) throw new UsageError(`--${flag} is required`);
  }
  mesh['listen'] = { host: flags['tunnel-bind'] ?? '0.0.0.0', port: 0 };
  mesh['peerExchange'] = false;
  mesh['agent'] = typeof given['agent'] === 'object' && given['agent'] !== null ? given['agent'] : {};
  input['mesh'] = mesh;
  return input;
}

function parseFabric(text: string): string[] {
  const out = text.split(',').map((s) => s.trim().replace(/^quic:\/\//, '').replace(/\/$/, '')).filter((s) => s !== '');
  for (const addr of out) if (!/^\S+:\d{1,5}$/.test(addr)) throw new UsageError(`--fabric: '${addr}' is not HOST:PORT`);
  if (out.length === 0) throw new UsageError('--fabric names no PoP');
  return out;
}

function pick<K extends keyof AgentFlags>(flags: AgentFlags, keys: readonly K[]): Pick<AgentFlags, K> {
  const out: Partial<AgentFlags> = {};
  for (const k of keys) if (flags[k] !== undefined) out[k] = flags[k];
  return out;
}

function fail(err: unknown): number {
  process.stderr.write(`fastpubsub agent: ${isFpsError(err) || err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof UsageError || err instanceof FlagError) {
    process.stderr.write("Run 'fastpubsub agent --help' for the options.\n");
    return 2;
  }
  return 1;
}
