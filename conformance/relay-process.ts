// One relay as a child process (`fastpubsub relay --config FILE`, run from the CLI sources
// through tsx), restartable on the same ports and data dir: crash (SIGKILL) and graceful stop
// (SIGTERM: the relay sends RECONNECT and serves its clients for the grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const CLI_MAIN = fileURLToPath(new URL('../packages/cli/src/main.ts', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface RelayProcessOptions {
  id: string;
  /** The relay config (JSON); written to `configFile`. */
  config: Record<string, unknown> & { listen: { host: string; port: number } };
  configFile: string;
}

/** A relay child process. `httpUrl` stays the same across restarts. */
export class RelayProcess {
  readonly id: string;
  readonly httpUrl: string;
  readonly port: number;
  readonly quicPort: number;
  private child: ChildProcess | undefined;
  private stderrTail = '';

  constructor(private readonly o: RelayProcessOptions) {
    this.id = o.id;
    this.port = o.config.listen.port;
    const quic = (o.config['quic'] as { listen?: { port?: number } } | undefined)?.listen?.port;
    this.quicPort = quic ?? this.port + 1;
    this.httpUrl = `http://127.0.0.1:${this.port}`;
  }

  get quicAddress(): string {
    return `127.0.0.1:${this.quicPort}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last few KiB the relay wrote to stderr (for failure reports). */
  get log(): string {
    return this.stderrTail;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`relay ${this.id} is already running`);
    await writeFile(this.o.configFile, JSON.stringify(this.o.config, null, 2));
    const entry = `import { main } from ${JSON.stringify(CLI_MAIN)}; main(process.argv.slice(1)).then((c) => { process.exitCode = c; });`;
    const child = spawn(
      process.execPath,
      ['--conditions=development', '--import', 'tsx', '--input-type=module', '--eval', entry, 'relay', '--config', this.o.configFile],
      { env: { ...process.env, FASTPUBSUB_MASTER_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-4096);
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`relay ${this.id}: not ready within ${READY_TIMEOUT_MS} ms; stderr: ${this.stderrTail}`));
      }, READY_TIMEOUT_MS);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`relay ${this.id} exited (${String(code)}) before it was ready; stderr: ${this.stderrTail}`));
      };
      child.once('exit', onExit);
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        if (out.includes('listening on')) {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve();
        }
      });
    });
  }

  /** SIGKILL: a crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** SIGTERM: graceful shutdown (RECONNECT, grace period). Resolves once the process exited. */
  async shutdown(): Promise<void> {
    await this.signalAndWait('SIGTERM');
  }

  private signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill(signal);
    });
  }
}

/** A free TCP port P on 127.0.0.1 whose UDP P+1 (the QUIC edge) and optional P+2 are free too. */
export async function freePortPair(extraUdp = 0): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (port + 1 + extraUdp > 65535) continue;
    let ok = true;
    for (let k = 1; k <= 1 + extraUdp && ok; k++) ok = await udpFree(port + k);
    if (ok) return port;
  }
  throw new Error('no free TCP/UDP port pair found in 50 attempts');
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
