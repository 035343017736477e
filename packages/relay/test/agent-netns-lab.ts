// A private network for the agent's tests: one network namespace (prefix fpsag) joined to this
// one by a veth pair, nft rules in it that drop every inbound connection (and, optionally, all
// UDP leaving it), and processes started inside it. Everything is removed by close(), which
// the tests call in finally blocks; namespaces and processes are named and tracked, never
// matched by pattern.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI_MAIN = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));

/** Arguments that run `fastpubsub ARGS…` from the sources (node prepended by the caller). */
export function cliArgs(args: string[]): string[] {
  const entry = `import { main } from ${JSON.stringify(CLI_MAIN)}; main(process.argv.slice(1)).then((c) => { process.exitCode = c; });`;
  return ['--conditions=development', '--import', 'tsx', '--input-type=module', '--eval', entry, ...args];
}

/** Whether this host lets us build the lab (root, ip, nft). */
export async function netnsAvailable(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  try {
    await run('ip', ['-V']);
    await run('nft', ['--version']);
    return true;
  } catch {
    return false;
  }
}

export interface Proc {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first line matching `re` (already written or later); rejects after `ms`. */
  waitLine(re: RegExp, ms: number, after?: number): Promise<string>;
  exited: Promise<number | null>;
}

export class NetnsLab {
  readonly ns: string;
  readonly hostIf: string;
  readonly nsIf: string;
  /** This side of the veth (the fabric) and the agent's side. */
  readonly hostIp: string;
  readonly nsIp: string;
  readonly #procs: Proc[] = [];
  #created = false;

  constructor() {
    const id = randomBytes(3).toString('hex');
    this.ns = `fpsag${id}`;
    this.hostIf = `fpsag${id}h`;
    this.nsIf = `fpsag${id}n`;
    const net = 1 + (randomBytes(1)[0]! % 250);
    const sub = 4 * (randomBytes(1)[0]! % 63);
    this.hostIp = `10.251.${net}.${sub + 1}`;
    this.nsIp = `10.251.${net}.${sub + 2}`;
  }

  /** Creates the namespace and the veth; `blockUdp` also drops every UDP packet leaving it. */
  async create(opts: { blockUdp?: boolean } = {}): Promise<void> {
    this.#created = true;
    await run('ip', ['netns', 'add', this.ns]);
    await run('ip', ['link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.nsIf]);
    await run('ip', ['link', 'set', this.nsIf, 'netns', this.ns]);
    await run('ip', ['addr', 'add', `${this.hostIp}/30`, 'dev', this.hostIf]);
    await run('ip', ['link', 'set', this.hostIf, 'up']);
    await this.exec('ip', ['addr', 'add', `${this.nsIp}/30`, 'dev', this.nsIf]);
    await this.exec('ip', ['link', 'set', this.nsIf, 'up']);
    await this.exec('ip', ['link', 'set', 'lo', 'up']);
    const rules = [
      'table inet fpsag {',
      // Nothing may connect in: only loopback and replies to connections made from inside.
      '  chain input { type filter hook input priority 0; policy drop; iif "lo" accept; ct state established,related accept; }',
      opts.blockUdp === true ? '  chain output { type filter hook output priority 0; policy accept; oif != "lo" meta l4proto udp drop; }' : '',
      '}',
    ].join('\n');
    await this.exec('nft', ['-f', '-'], rules);
  }

  /** Runs a command inside the namespace to completion. */
  async exec(cmd: string, args: string[], stdin?: string): Promise<string> {
    const p = run('ip', ['netns', 'exec', this.ns, cmd, ...args], { timeout: 30_000 });
    if (stdin !== undefined) {
      p.child.stdin?.end(stdin);
    }
    return (await p).stdout;
  }

  /** Starts `fastpubsub ARGS…` inside the namespace (inside = true) or here. */
  start(args: string[], inside: boolean, opts: { stdin?: boolean } = {}): Proc {
    const argv = [process.execPath, ...cliArgs(args)];
    const stdio = [opts.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'] as ('pipe' | 'ignore')[];
    const child = inside ? spawn('ip', ['netns', 'exec', this.ns, ...argv], { stdio }) : spawn(argv[0]!, argv.slice(1), { stdio });
    let out = '';
    const waiters: (() => void)[] = [];
    const onData = (b: Buffer): void => {
      out += b.toString('utf8');
      for (const w of waiters.splice(0)) w();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
      for (const w of waiters.splice(0)) w();
      resolve(code);
    }));
    const proc: Proc = {
      child,
      exited,
      output: () => out,
      waitLine: (re, ms, after = 0) =>
        new Promise((resolve, reject) => {
          const deadline = setTimeout(() => reject(new Error(`no line matching ${String(re)} within ${ms} ms; output:\n${out.slice(-3000)}`)), ms);
          const check = (): void => {
            const line = out.slice(after).split('\n').find((l) => re.test(l));
            if (line !== undefined) {
              clearTimeout(deadline);
              resolve(line);
            } else if (child.exitCode !== null) {
              clearTimeout(deadline);
              reject(new Error(`process exited (${child.exitCode}) before a line matching ${String(re)}; output:\n${out.slice(-3000)}`));
            } else waiters.push(check);
          };
          check();
        }),
    };
    this.#procs.push(proc);
    return proc;
  }

  /** Stops every process this lab started (SIGKILL after 3 s) and deletes the namespace. */
  async close(): Promise<void> {
    await Promise.all(
      this.#procs.map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGTERM');
        const t = setTimeout(() => p.child.kill('SIGKILL'), 3000);
        await p.exited;
        clearTimeout(t);
      }),
    );
    if (!this.#created) return;
    // Deleting the namespace deletes its end of the veth, and with it ours.
    await run('ip', ['netns', 'del', this.ns]).catch(() => undefined);
    await run('ip', ['link', 'del', this.hostIf]).catch(() => undefined);
  }
}
