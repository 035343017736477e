// A local mesh for development and tests: N relays as separate processes, each pair linked
// through the userspace link emulator (packages/testkit NetworkEmulator) as a topology file
// says. Relays only ever dial emulator addresses (peer exchange off), so every mesh packet
// pays the emulated delay, jitter and loss, and the emulated links can be changed at runtime.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { NetworkEmulator, parseTopology, type Topology } from '@fastpubsub/testkit';
import { createMeshPki } from '@fastpubsub/relay';
import { startControl, type Control } from '@fastpubsub/control';

export interface DevNode {
  id: string;
  region: string;
  httpUrl: string;
  wsUrl: string;
  quic: string;
  /** The CA a QUIC client must trust: each relay generates its own into its data dir. */
  quicCaFile: string;
  mesh: string;
  pid: number | undefined;
}

export interface DevClusterOptions {
  /** Where PKI, configs and data go; default a fresh temp dir, removed by stop(). */
  dir?: string;
  masterToken?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Extra `mesh` config keys for every relay (e.g. probeIntervalMs, redundantChannels). */
  mesh?: Record<string, unknown>;
  /**
   * Run an embedded control plane in this process and point every relay at it (tokens become
   * signed tickets verified at every PoP; revocations and limits are pushed to all of them).
   * Default false: the relays use their standalone token service.
   */
  control?: boolean;
  /** Extra top-level config keys for one relay (e.g. `mqtt`, `bridges`), by relay id. */
  relayConfig?: (id: string) => Record<string, unknown>;
  /** The web console's static build, served by the embedded control plane at /console/. */
  consoleDir?: string;
  /** Relay stderr lines go here (default: dropped). */
  onLog?: (id: string, line: string) => void;
  readyTimeoutMs?: number;
}

/** An embedded control plane run inside the dev process, with one ready tenant. */
export interface DevControl {
  readonly url: string;
  readonly operatorToken: string;
  /** The tenant created for you, and its master token (`MT_…`) for the token endpoints. */
  readonly tenant: string;
  readonly tenantMasterToken: string;
}

export interface DevCluster {
  readonly nodes: ReadonlyMap<string, DevNode>;
  readonly emulator: NetworkEmulator;
  readonly masterToken: string;
  readonly dir: string;
  /** The control plane the relays follow, when started with `control: true`. */
  readonly control: DevControl | undefined;
  /** SIGKILL one relay (a crash, for failover tests). */
  kill(id: string): void;
  /** SIGTERM every relay, close the emulator, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const HERE = fileURLToPath(import.meta.url);
const FROM_SOURCES = HERE.endsWith('.ts');

/** How to run `fastpubsub relay` as a child: the built bin, or the sources through tsx. */
function relayCommand(configFile: string): string[] {
  if (FROM_SOURCES) {
    const main = fileURLToPath(new URL('../main.ts', import.meta.url));
    const entry = `import { main } from ${JSON.stringify(main)}; main(process.argv.slice(1)).then((c) => { process.exitCode = c; });`;
    return ['--conditions=development', '--import', 'tsx', '--input-type=module', '--eval', entry, 'relay', '--config', configFile];
  }
  return [fileURLToPath(new URL('../../bin/fastpubsub.js', import.meta.url)), 'relay', '--config', configFile];
}

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

export async function startDevCluster(topologyInput: unknown, opts: DevClusterOptions = {}): Promise<DevCluster> {
  const topology: Topology = parseTopology(topologyInput);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'fastpubsub-dev-')));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const masterToken = opts.masterToken ?? `dev-${randomBytes(16).toString('hex')}`;
  const ids = topology.nodes.map((n) => n.id);
  const pki = await createMeshPki(join(dir, 'pki'), ids);

  const ports = new Map<string, { http: number; quic: number; mesh: number }>();
  for (const id of ids) ports.set(id, { http: await freeTcpPort(), quic: await freeUdpPort(), mesh: await freeUdpPort() });
  const emulator = await NetworkEmulator.start(topology, new Map(ids.map((id) => [id, ports.get(id)!.mesh])));

  let control: Control | undefined;
  const popToken = `pop-${randomBytes(16).toString('hex')}`;
  const operatorToken = `op-${randomBytes(16).toString('hex')}`;
  if (opts.control === true) {
    control = await startControl({
      listen: { host: '127.0.0.1', port: 0 },
      operatorToken,
      popToken,
      store: { kind: 'embedded', dataDir: join(dir, 'control') },
      logLevel: opts.logLevel ?? 'warn',
      ...(opts.consoleDir === undefined ? {} : { consoleDir: opts.consoleDir }),
    });
  }

  const children = new Map<string, ChildProcess>();
  const nodes = new Map<string, DevNode>();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all(
        [...children.values()].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const t = setTimeout(() => c.kill('SIGKILL'), 5000);
              c.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
      await emulator.close();
      await control?.close();
      if (ownDir) await rm(dir, { recursive: true, force: true });
    })());

  try {
    await Promise.all(
      topology.nodes.map(async (node) => {
        const id = node.id;
        const p = ports.get(id)!;
        const region = typeof node['region'] === 'string' ? node['region'] : id.toUpperCase();
        const location = locationOf(node);
        const config = {
          listen: { host: '127.0.0.1', port: p.http },
          masterToken,
          region,
          ...(location === undefined ? {} : { location }),
          dataDir: join(dir, 'data', id),
          logLevel: opts.logLevel ?? 'warn',
          shutdownGraceMs: 2000,
          reconnectGraceMs: 500,
          quic: { listen: { host: '127.0.0.1', port: p.quic } },
          ...(control === undefined ? {} : { control: { urls: [control.url], token: popToken, popId: id } }),
          mesh: {
            listen: { host: '127.0.0.1', port: p.mesh },
            caFile: pki.caCert,
            certFile: pki.relays[id]!.cert,
            keyFile: pki.relays[id]!.key,
            seeds: emulator.neighbours(id).map((n) => {
              const a = emulator.addressFor(id, n);
              return `${a.host}:${a.port}`;
            }),
            peerExchange: false,
            // A loopback-only development mesh: its route tables may be read without a token.
            publicIntrospection: true,
            ...opts.mesh,
          },
          ...opts.relayConfig?.(id),
        };
        const file = join(dir, `${id}.json`);
        // The config holds the master and PoP tokens: readable by this user only.
        await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
        const child = spawn(process.execPath, relayCommand(file), {
          env: { ...process.env, FASTPUBSUB_MASTER_TOKEN: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.set(id, child);
        let err = '';
        child.stderr?.setEncoding('utf8').on('data', (s: string) => {
          if (err.length < 8192) err += s;
          for (const line of s.split('\n')) if (line !== '') opts.onLog?.(id, line);
        });
        await new Promise<void>((resolve, reject) => {
          let out = '';
          const timer = setTimeout(() => reject(new Error(`relay ${id}: not ready within ${opts.readyTimeoutMs ?? 20000} ms; stderr: ${err}`)), opts.readyTimeoutMs ?? 20000);
          child.stdout?.setEncoding('utf8').on('data', (s: string) => {
            out += s;
            if (out.includes('\n')) {
              clearTimeout(timer);
              resolve();
            }
          });
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`relay ${id} exited (${String(code)}) before ready; stderr: ${err}`));
          });
        });
        nodes.set(id, {
          id,
          region,
          httpUrl: `http://127.0.0.1:${p.http}`,
          wsUrl: `ws://127.0.0.1:${p.http}/ws`,
          quic: `127.0.0.1:${p.quic}`,
          quicCaFile: join(dir, 'data', id, 'quic', 'ca.pem'),
          mesh: `127.0.0.1:${p.mesh}`,
          pid: child.pid,
        });
      }),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  let devControl: DevControl | undefined;
  if (control !== undefined) {
    try {
      devControl = await createDevTenant(control.url, operatorToken);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  const ordered = new Map(ids.map((id) => [id, nodes.get(id)!]));
  return {
    nodes: ordered,
    emulator,
    masterToken,
    dir,
    control: devControl,
    kill: (id) => children.get(id)?.kill('SIGKILL'),
    stop,
  };
}

/** A topology node's place on the map (`lat`, `lon`, optional `city`), if it gives one. */
function locationOf(node: Record<string, unknown>): { lat: number; lon: number; city?: string } | undefined {
  const { lat, lon, city } = node;
  if (typeof lat !== 'number' || typeof lon !== 'number') return undefined;
  return { lat, lon, ...(typeof city === 'string' && city !== '' ? { city } : {}) };
}

/** Creates the `demo` tenant and a master token for it through the control API. */
async function createDevTenant(url: string, operatorToken: string): Promise<DevControl> {
  const call = async (path: string, body: unknown): Promise<unknown> => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`control plane: POST ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  const tenant = 'demo';
  await call('/v1/tenants', { id: tenant, name: 'created by fastpubsub dev' });
  const mt = (await call(`/v1/tenants/${tenant}/master-tokens`, { description: 'fastpubsub dev' })) as { token: string };
  return { url, operatorToken, tenant, tenantMasterToken: mt.token };
}
