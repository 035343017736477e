// A real 3-member etcd cluster on loopback for tests and benchmarks: free ports, temp data
// dirs, members that can be killed (SIGKILL) and restarted with their data; bounded waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface Member {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  proc: ChildProcess | undefined;
  log: string[];
}

export class EtcdCluster {
  readonly members: Member[];
  readonly #root: string;
  readonly #initial: string;

  private constructor(root: string, members: Member[]) {
    this.#root = root;
    this.members = members;
    this.#initial = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  }

  static async start(size = 3): Promise<EtcdCluster> {
    const root = await mkdtemp(join(tmpdir(), 'fps-etcd-'));
    const members: Member[] = [];
    for (let i = 0; i < size; i++) {
      members.push({
        name: `m${i}`,
        clientUrl: `http://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        dataDir: join(root, `m${i}`),
        proc: undefined,
        log: [],
      });
    }
    const c = new EtcdCluster(root, members);
    for (let i = 0; i < size; i++) c.#spawn(i);
    try {
      await c.waitHealthy(20_000);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  #spawn(i: number): void {
    const m = this.members[i] as Member;
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', this.#initial,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', 'fps-test',
      '--heartbeat-interval', '50',
      '--election-timeout', '500',
      '--log-level', 'error',
    ];
    const proc = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => {
      m.log.push(d.toString('utf8'));
      if (m.log.length > 50) m.log.shift();
    });
    m.proc = proc;
  }

  /** SIGKILL one member; resolves once the process is gone. */
  async kill(i: number): Promise<void> {
    const m = this.members[i] as Member;
    const p = m.proc;
    m.proc = undefined;
    if (p === undefined || p.exitCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.kill(i)));
  }

  /** Restarts a killed member with its data dir. */
  restart(i: number): void {
    if ((this.members[i] as Member).proc !== undefined) return;
    this.#spawn(i);
  }

  restartAll(): void {
    for (let i = 0; i < this.members.length; i++) this.restart(i);
  }

  /** Waits until every running member reports healthy (a leader exists). */
  async waitHealthy(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const running = this.members.filter((m) => m.proc !== undefined);
      const ok = await Promise.all(running.map((m) => health(m.clientUrl)));
      if (running.length > 0 && ok.every(Boolean)) return;
      if (Date.now() > deadline) {
        throw new Error(`etcd not healthy after ${ms} ms: ${running.map((m) => m.log.join('').slice(-300)).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.killAll();
    await rm(this.#root, { recursive: true, force: true });
  }
}

async function health(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    const j = (await res.json()) as { health?: string };
    return j.health === 'true';
  } catch {
    return false;
  }
}
