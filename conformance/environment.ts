// The relays the scenarios run against: one standalone relay (its own token service, master
// token) and, started on first use, a 3-relay mesh behind the link emulator (short delays)
// following an embedded control plane (signed tickets, tenants with their own master tokens).
// Every relay's QUIC edge uses one certificate from one CA, so a QUIC client trusts one caFile
// for every edge, and listens at its HTTP port + 1.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NetworkEmulator, parseTopology } from '@fastpubsub/testkit';
import { createMeshPki } from '@fastpubsub/relay';
import { startControl, type Control } from '@fastpubsub/control';
import { createToken, revokeToken } from '@fastpubsub/client/node';
import { RelayProcess, freePortPair } from './relay-process.js';

const run = promisify(execFile);
export const STANDALONE = 'standalone';
export const POPS = ['pop0', 'pop1', 'pop2'] as const;
/** One-way delay of every emulated mesh link: short, so cross-PoP scenarios stay fast. */
const LINK_DELAY_MS = 3;

export interface TokenGrant {
  tenant: string;
  pub: string[];
  sub: string[];
  ttlSeconds?: number;
}

/** What a driver's `tokenProvider` needs to mint tokens at one relay. */
export interface ProviderSpec {
  url: string;
  masterToken: string;
  tenant: string;
  pub: string[];
  sub: string[];
  ttlSeconds: number;
}

interface Mesh {
  pops: Map<string, RelayProcess>;
  emulator: NetworkEmulator;
  control: Control;
  operatorToken: string;
  /** tenant → its master token (MT_…), created on first use. */
  tenantMasters: Map<string, Promise<string>>;
}

export class Environment {
  readonly masterToken = `conformance-${randomBytes(16).toString('hex')}`;
  readonly caFile: string;
  readonly serverName = 'localhost';
  private standalone: RelayProcess | undefined;
  private mesh: Promise<Mesh> | undefined;
  private unreachable: Promise<string> | undefined;

  private constructor(
    readonly dir: string,
    private readonly edgeCert: { certFile: string; keyFile: string },
  ) {
    this.caFile = join(dir, 'edge-pki', 'ca.pem');
  }

  static async create(): Promise<Environment> {
    const dir = await mkdtemp(join(tmpdir(), 'fastpubsub-conformance-'));
    try {
      const edgeCert = await createEdgePki(join(dir, 'edge-pki'));
      return new Environment(dir, edgeCert);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The relays by name (`standalone`, `pop0`…`pop2`), starting them on first use. */
  async relay(name: string): Promise<RelayProcess> {
    if (name === STANDALONE) return this.startStandalone();
    if ((POPS as readonly string[]).includes(name)) return (await this.startMesh()).pops.get(name)!;
    throw new Error(`unknown relay '${name}' (standalone, ${POPS.join(', ')})`);
  }

  /** An http URL on loopback where nothing listens (a port that was free a moment ago). */
  async unreachableUrl(): Promise<string> {
    this.unreachable ??= freePortPair().then((port) => `http://127.0.0.1:${port}`);
    return this.unreachable;
  }

  /** The relay (already started) serving `url`, if any. */
  async relayByUrl(url: string): Promise<RelayProcess | undefined> {
    const all = [...(this.standalone === undefined ? [] : [this.standalone]), ...(this.mesh === undefined ? [] : (await this.mesh).pops.values())];
    const norm = (u: string): string => u.replace(/^ws(s?):/, 'http$1:').replace(/\/ws$/, '').replace(/\/$/, '');
    return all.find((r) => norm(r.httpUrl) === norm(url));
  }

  private async startStandalone(): Promise<RelayProcess> {
    if (this.standalone !== undefined) return this.standalone;
    const port = await freePortPair();
    const relay = new RelayProcess({
      id: STANDALONE,
      configFile: join(this.dir, 'standalone.json'),
      config: {
        listen: { host: '127.0.0.1', port },
        masterToken: this.masterToken,
        region: 'standalone',
        dataDir: join(this.dir, 'standalone-data'),
        logLevel: 'warn',
        shutdownGraceMs: 3000,
        reconnectGraceMs: 2500,
        quic: { listen: { host: '127.0.0.1', port: port + 1 }, ...this.edgeCert },
      },
    });
    this.standalone = relay;
    await relay.start();
    return relay;
  }

  private startMesh(): Promise<Mesh> {
    return (this.mesh ??= this.buildMesh());
  }

  private async buildMesh(): Promise<Mesh> {
    const ids = [...POPS];
    const topology = parseTopology({
      nodes: ids.map((id) => ({ id })),
      links: [
        { a: 'pop0', b: 'pop1', delayMs: LINK_DELAY_MS },
        { a: 'pop1', b: 'pop2', delayMs: LINK_DELAY_MS },
        { a: 'pop0', b: 'pop2', delayMs: LINK_DELAY_MS },
      ],
      seed: 1,
    });
    const pki = await createMeshPki(join(this.dir, 'mesh-pki'), ids);
    const ports = new Map<string, number>();
    // HTTP P, QUIC edge P+1, mesh P+2 (UDP).
    for (const id of ids) ports.set(id, await freePortPair(1));
    const emulator = await NetworkEmulator.start(topology, new Map(ids.map((id) => [id, ports.get(id)! + 2])));
    const operatorToken = `op-${randomBytes(16).toString('hex')}`;
    const popToken = `pop-${randomBytes(16).toString('hex')}`;
    let control: Control;
    try {
      control = await startControl({
        listen: { host: '127.0.0.1', port: 0 },
        operatorToken,
        popToken,
        store: { kind: 'embedded', dataDir: join(this.dir, 'control') },
        logLevel: 'warn',
      });
    } catch (err) {
      await emulator.close();
      throw err;
    }
    const pops = new Map<string, RelayProcess>();
    for (const id of ids) {
      const port = ports.get(id)!;
      pops.set(
        id,
        new RelayProcess({
          id,
          configFile: join(this.dir, `${id}.json`),
          config: {
            listen: { host: '127.0.0.1', port },
            masterToken: this.masterToken,
            region: id,
            dataDir: join(this.dir, 'data', id),
            logLevel: 'warn',
            shutdownGraceMs: 3000,
            reconnectGraceMs: 2500,
            quic: { listen: { host: '127.0.0.1', port: port + 1 }, ...this.edgeCert },
            control: { urls: [control.url], token: popToken, popId: id },
            mesh: {
              listen: { host: '127.0.0.1', port: port + 2 },
              caFile: pki.caCert,
              certFile: pki.relays[id]!.cert,
              keyFile: pki.relays[id]!.key,
              seeds: emulator.neighbours(id).map((n) => {
                const a = emulator.addressFor(id, n);
                return `${a.host}:${a.port}`;
              }),
              peerExchange: false,
            },
          },
        }),
      );
    }
    const mesh: Mesh = { pops, emulator, control, operatorToken, tenantMasters: new Map() };
    try {
      await Promise.all([...pops.values()].map((p) => p.start()));
    } catch (err) {
      await stopMesh(mesh);
      throw err;
    }
    return mesh;
  }

  private isPop(relay: RelayProcess): boolean {
    return (POPS as readonly string[]).includes(relay.id);
  }

  /** The master token that mints tokens for `tenant` at `relay`. */
  async masterTokenFor(relay: RelayProcess, tenant: string): Promise<string> {
    if (!this.isPop(relay)) return this.masterToken;
    const mesh = await this.startMesh();
    let mt = mesh.tenantMasters.get(tenant);
    if (mt === undefined) {
      mt = createTenant(mesh.control.url, mesh.operatorToken, tenant);
      mesh.tenantMasters.set(tenant, mt);
    }
    return mt;
  }

  async providerSpec(relay: RelayProcess, grant: TokenGrant): Promise<ProviderSpec> {
    return {
      url: relay.httpUrl,
      masterToken: await this.masterTokenFor(relay, grant.tenant),
      tenant: grant.tenant,
      pub: grant.pub,
      sub: grant.sub,
      ttlSeconds: grant.ttlSeconds ?? 3600,
    };
  }

  async mintToken(relay: RelayProcess, grant: TokenGrant): Promise<string> {
    return createToken(
      {
        grants: [{ tenant_ids: [grant.tenant], allow_channels_pub: grant.pub, allow_channels_sub: grant.sub }],
        expiresAt: Date.now() + (grant.ttlSeconds ?? 3600) * 1000,
        createdBy: 'conformance',
      },
      { url: relay.httpUrl, masterToken: await this.masterTokenFor(relay, grant.tenant) },
    );
  }

  async revoke(relay: RelayProcess, tenant: string, token: string): Promise<void> {
    await revokeToken({ token }, { url: relay.httpUrl, masterToken: await this.masterTokenFor(relay, tenant) });
  }

  /** Stops every relay, the emulator and the control plane; removes the temp dir. */
  async stop(): Promise<void> {
    const tasks: Promise<void>[] = [];
    if (this.standalone !== undefined) tasks.push(this.standalone.kill());
    if (this.mesh !== undefined) tasks.push(this.mesh.then(stopMesh, () => {}));
    await Promise.allSettled(tasks);
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function stopMesh(mesh: Mesh): Promise<void> {
  await Promise.allSettled([...mesh.pops.values()].map((p) => p.kill()));
  await mesh.emulator.close();
  await mesh.control.close();
}

async function createTenant(url: string, operatorToken: string, tenant: string): Promise<string> {
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
  await call('/v1/tenants', { id: tenant, name: `conformance ${tenant}` });
  const mt = (await call(`/v1/tenants/${tenant}/master-tokens`, { description: 'conformance' })) as { token: string };
  return mt.token;
}

/** A CA and one certificate for `localhost` / 127.0.0.1, shared by every relay's QUIC edge. */
async function createEdgePki(dir: string): Promise<{ certFile: string; keyFile: string }> {
  await mkdir(dir, { recursive: true });
  const openssl = (args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir, timeout: 20_000 });
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  await openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '30', '-subj', '/CN=FastPubSub conformance edge CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem']);
  await writeFile(join(dir, 'edge.ext'), [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '',
  ].join('\n'));
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'edge.sec1']);
  await openssl(['pkcs8', '-topk8', '-nocrypt', '-in', 'edge.sec1', '-out', 'edge.key']);
  await openssl(['req', '-new', '-key', 'edge.key', '-subj', '/CN=localhost', '-out', 'edge.csr']);
  await openssl(['x509', '-req', '-in', 'edge.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-sha256', '-days', '30',
    '-extfile', 'edge.ext', '-out', 'edge.pem']);
  return { certFile: join(dir, 'edge.pem'), keyFile: join(dir, 'edge.key') };
}
