// Runs the `fastpubsub` CLI from sources as a real child process (tsx, development condition),
// capturing its output; every child started here is killed by `killChildren()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ENTRY = `import { main } from ${JSON.stringify(MAIN)}; main(process.argv.slice(1)).then((c) => { process.exitCode = c; });`;

export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

/**
 * Starts `fastpubsub ...args`. The connection-related environment variables are cleared so the
 * caller's shell never leaks into a test; `env` sets what a test needs.
 */
export function cli(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Run {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '--eval', ENTRY, ...args], {
    env: { ...process.env, FASTPUBSUB_URL: '', FASTPUBSUB_TOKEN: '', FASTPUBSUB_MASTER_TOKEN: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  else child.stdin.end();
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The exit code, or a rejection naming the stderr seen so far if it takes longer than `ms`. */
export async function exitWithin(run: Run, ms = 20_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms; stderr: ${run.stderr()}`)), ms);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs every child still running (for after/afterEach hooks). */
export function killChildren(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
