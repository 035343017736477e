// `fastpubsub control`: runs one control-plane service until SIGTERM/SIGINT. Settings come
// from, in rising precedence, the defaults, a JSON config file, FASTPUBSUB_OPERATOR_TOKEN /
// FASTPUBSUB_POP_TOKEN and the flags; the result is validated strictly before anything binds.
import { readFile } from 'node:fs/promises';
import { FlagError, isFpsError, parseFlags, waitForStopSignal } from '@fastpubsub/core';
import { CONTROL_DEFAULTS, resolveControlConfig, type ControlConfigInput } from './config.js';

const d = CONTROL_DEFAULTS;
const USAGE = `Usage: fastpubsub control --operator-token TOKEN [options]

Runs the FastPubSub control plane: tenants, master tokens, signed access tokens (the contract
token endpoints), limits, signing keys, PoP registry, usage, and the watch stream PoPs follow.
OpenAPI document at GET /openapi.json.

Options:
  --listen HOST:PORT        address to serve on (default ${d.listen.host}:${d.listen.port}; port 0 = any free port)
  --operator-token TOKEN    operator secret (or env FASTPUBSUB_OPERATOR_TOKEN)
  --pop-token TOKEN         secret PoPs present (or env FASTPUBSUB_POP_TOKEN; default: the operator token)
  --store KIND              embedded (default) | etcd
  --data-dir DIR            embedded store directory (default ${d.dataDir})
  --etcd-endpoints URLS     comma-separated etcd client URLs (with --store etcd)
  --etcd-prefix PREFIX      key prefix in etcd (default ${d.etcdPrefix})
  --tls-cert FILE           serve HTTPS with this PEM certificate chain (with --tls-key)
  --tls-key FILE            the certificate's PEM key; SIGHUP re-reads both files
  --etcd-ca FILE            CA bundle of the etcd members' certificates (client TLS to etcd)
  --etcd-cert FILE          client certificate towards etcd (with --etcd-key)
  --etcd-key FILE           its PEM key
  --etcd-user USER          etcd user (password in env FASTPUBSUB_ETCD_PASSWORD); with a client
                            certificate and no user, etcd authenticates the certificate's CN
  --config FILE             JSON config file; flags override its values
  --log-level L             debug | info | warn | error | silent (default ${d.logLevel})
  --console-dir DIR         serve the web console's build from DIR at /console/
  -h, --help                show this help

Config file keys (JSON, unknown keys are errors): listen {host, port}, operatorToken, popToken,
tls {certFile, keyFile}, store {kind: "embedded", dataDir} | {kind: "etcd", endpoints, prefix,
tls {caFile, certFile, keyFile}, auth {username, password}}, popLeaseMs (${d.popLeaseMs}),
maxHttpBodyBytes (${d.maxHttpBodyBytes}), logLevel, consoleDir (the web console's build, served at
/console/; \`fastpubsub control\` points it at @fastpubsub/console's build unless --console-dir is given).

Relays use it with the relay config key: "control": {"urls": ["https://HOST:PORT"], "token": POP_TOKEN,
"caFile": CA_OF_THE_CONTROL_CERTIFICATE}.
`;

class UsageError extends Error {}

export const command: { summary: string; run(argv: string[]): Promise<number> } = {
  summary: 'run the control plane (tenants, tokens, limits, PoP registry; embedded or etcd store)',
  async run(argv) {
    let input: ControlConfigInput;
    try {
      const { values } = parseFlags({
        args: argv,
        strict: true,
        options: {
          listen: { type: 'string' },
          'operator-token': { type: 'string' },
          'pop-token': { type: 'string' },
          store: { type: 'string' },
          'data-dir': { type: 'string' },
          'etcd-endpoints': { type: 'string' },
          'etcd-prefix': { type: 'string' },
          'tls-cert': { type: 'string' },
          'tls-key': { type: 'string' },
          'etcd-ca': { type: 'string' },
          'etcd-cert': { type: 'string' },
          'etcd-key': { type: 'string' },
          'etcd-user': { type: 'string' },
          config: { type: 'string' },
          'log-level': { type: 'string' },
          'console-dir': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
      if (values.help === true) {
        process.stdout.write(USAGE);
        return 0;
      }
      const raw: Record<string, unknown> =
        values.config === undefined ? {} : (JSON.parse(await readFile(values.config, 'utf8')) as Record<string, unknown>);
      const env = process.env;
      if (env['FASTPUBSUB_OPERATOR_TOKEN'] !== undefined) raw['operatorToken'] = env['FASTPUBSUB_OPERATOR_TOKEN'];
      if (env['FASTPUBSUB_POP_TOKEN'] !== undefined) raw['popToken'] = env['FASTPUBSUB_POP_TOKEN'];
      if (values['operator-token'] !== undefined) raw['operatorToken'] = values['operator-token'];
      if (values['pop-token'] !== undefined) raw['popToken'] = values['pop-token'];
      if (values.listen !== undefined) {
        const m = /^(.+):(\d+)$/.exec(values.listen);
        if (m === null) throw new UsageError(`--listen must be HOST:PORT, got ${values.listen}`);
        raw['listen'] = { host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
      }
      const storeKind = values.store ?? (raw['store'] as { kind?: string } | undefined)?.kind ?? 'embedded';
      if (storeKind === 'etcd') {
        const given = (raw['store'] ?? {}) as Record<string, unknown>;
        const endpoints = values['etcd-endpoints']?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? given['endpoints'];
        raw['store'] = {
          kind: 'etcd',
          endpoints,
          ...(values['etcd-prefix'] !== undefined ? { prefix: values['etcd-prefix'] } : given['prefix'] !== undefined ? { prefix: given['prefix'] } : {}),
          ...etcdSecurity(values, given),
        };
      } else if (storeKind === 'embedded') {
        const given = (raw['store'] ?? {}) as Record<string, unknown>;
        const dataDir = values['data-dir'] ?? given['dataDir'];
        raw['store'] = { kind: 'embedded', ...(dataDir === undefined ? {} : { dataDir }) };
      } else {
        throw new UsageError(`--store must be embedded or etcd, got ${storeKind}`);
      }
      if (values['tls-cert'] !== undefined || values['tls-key'] !== undefined) {
        const given = (raw['tls'] ?? {}) as Record<string, unknown>;
        raw['tls'] = { ...given, ...pick({ certFile: values['tls-cert'], keyFile: values['tls-key'] }) };
      }
      if (values['log-level'] !== undefined) raw['logLevel'] = values['log-level'];
      if (values['console-dir'] !== undefined) raw['consoleDir'] = values['console-dir'];
      resolveControlConfig(raw);
      input = raw as unknown as ControlConfigInput;
    } catch (err) {
      return fail(err);
    }
    const { startControl } = await import('./index.js');
    let control;
    try {
      control = await startControl(input);
    } catch (err) {
      return fail(err);
    }
    process.stdout.write(`fastpubsub control listening on ${control.url} (store ${control.config.store.kind})\n`);
    const started = control;
    const onHangup = (): void => {
      started.reloadTls().then(
        () => process.stderr.write('fastpubsub control: SIGHUP, TLS certificate reloaded\n'),
        (err: unknown) => process.stderr.write(`fastpubsub control: SIGHUP, TLS reload failed, keeping the old certificate: ${(err as Error).message}\n`),
      );
    };
    process.on('SIGHUP', onHangup);
    const stop = await waitForStopSignal();
    process.off('SIGHUP', onHangup);
    process.stderr.write(`fastpubsub control: ${stop.signal}, shutting down\n`);
    await control.close();
    stop.release();
    return 0;
  },
};

function pick(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The etcd store's TLS and auth from flags over the config file; the password only from the environment or the file. */
function etcdSecurity(values: Record<string, unknown>, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const tlsFlags = pick({ caFile: values['etcd-ca'] as string | undefined, certFile: values['etcd-cert'] as string | undefined, keyFile: values['etcd-key'] as string | undefined });
  const tls = { ...((given['tls'] ?? {}) as Record<string, unknown>), ...tlsFlags };
  if (Object.keys(tls).length > 0) out['tls'] = tls;
  const auth = { ...((given['auth'] ?? {}) as Record<string, unknown>) };
  if (values['etcd-user'] !== undefined) auth['username'] = values['etcd-user'];
  const password = process.env['FASTPUBSUB_ETCD_PASSWORD'];
  if (password !== undefined && password !== '') auth['password'] = password;
  if (Object.keys(auth).length > 0) out['auth'] = auth;
  return out;
}

function fail(err: unknown): number {
  const usage = err instanceof UsageError || err instanceof FlagError;
  const msg = isFpsError(err) || err instanceof Error ? err.message : String(err);
  process.stderr.write(`fastpubsub control: ${msg}\n${usage ? "Run 'fastpubsub control --help' for usage.\n" : ''}`);
  return usage ? 2 : 1;
}
