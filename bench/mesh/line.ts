// Three relays as child processes linked over loopback in a line, A — B — C (each dials only its
// left neighbour, peer exchange off), with no link emulator in between: what a mesh hop itself
// costs. Relays run from the TypeScript sources like every benchmark here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createMeshPki } from '@fastpubsub/relay';
import { freePort } from '../fanout/processes.js';

export const IDS = ['a', 'b', 'c'] as const;
export type RelayId = (typeof IDS)[number];

export interface LineCluster {
  readonly nodes: ReadonlyMap<string, { readonly httpUrl: string; readonly wsUrl: string; readonly pid: number }>;
  readonly masterToken: string;
  stop(): Promise<void>;
}

const CLI_MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
const READY_MS = 30_000;

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

export async function startLine(): Promise<LineCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'fps-bench-mesh-'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const masterToken = randomBytes(24).toString('hex');
  const pki = await createMeshPki(join(dir, 'pki'), [...IDS]);
  const ports = new Map<string, { http: number; mesh: number }>();
  for (const id of IDS) ports.set(id, { http: await freePort(), mesh: await freeUdpPort() });
  const children: ChildProcess[] = [];
  const nodes = new Map<string, { httpUrl: string; wsUrl: string; pid: number }>();
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => { clearTimeout(t); resolve(); });
      c.kill('SIGTERM');
    })));
    await rm(dir, { recursive: true, force: true });
  };
  process.once('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });
  try {
    for (const [i, id] of IDS.entries()) {
      const p = ports.get(id)!;
      const left = i === 0 ? undefined : ports.get(IDS[i - 1]!)!;
      const config = {
        listen: { host: '127.0.0.1', port: p.http },
        masterToken,
        region: id.toUpperCase(),
        dataDir: join(dir, 'data', id),
        logLevel: 'warn',
        shutdownGraceMs: 1000,
        quic: { enabled: false },
        limits: { defaultIngressKbPerSec: 0, defaultEgressKbPerSec: 0 },
        mesh: {
          listen: { host: '127.0.0.1', port: p.mesh },
          caFile: pki.caCert,
          certFile: pki.relays[id]!.cert,
          keyFile: pki.relays[id]!.key,
          seeds: left === undefined ? [] : [`127.0.0.1:${left.mesh}`],
          peerExchange: false,
          publicIntrospection: true,
        },
      };
      const file = join(dir, `${id}.json`);
      await writeFile(file, JSON.stringify(config), { mode: 0o600 });
      const entry = `import { main } from ${JSON.stringify(CLI_MAIN)}; main(process.argv.slice(1)).then((c) => { process.exitCode = c; });`;
      const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '--eval', entry, 'relay', '--config', file], {
        env: { ...process.env, FASTPUBSUB_MASTER_TOKEN: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let err = '';
      child.stderr?.setEncoding('utf8').on('data', (s: string) => { if (err.length < 8192) err += s; });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`relay ${id}: not ready within ${READY_MS} ms; stderr: ${err}`)), READY_MS);
        child.stdout?.setEncoding('utf8').on('data', (s: string) => { if (s.includes('listening')) { clearTimeout(timer); resolve(); } });
        child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`relay ${id} exited (${String(code)}); stderr: ${err}`)); });
      });
      nodes.set(id, { httpUrl: `http://127.0.0.1:${p.http}`, wsUrl: `ws://127.0.0.1:${p.http}/ws`, pid: child.pid ?? -1 });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, masterToken, stop };
}
