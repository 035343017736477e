// Child processes of the benchmark: every one is registered here and killed when the benchmark
// exits, normally, on an error, or on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const children = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.stderr.write(`bench: ${signal}, stopped the brokers\n`);
      process.exit(130);
    });
  }
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr so far, for error messages. */
  output: () => string;
  /** Resolves with the first stdout/stderr line matching `re`; rejects on exit or after `timeoutMs`. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnChild(command: string, args: string[], what: string): Spawned {
  hookExit();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString('utf8');
    if (out.length > 64_000) out = out.slice(-32_000);
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { children.delete(child); resolve(); }));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`${what}: cannot start '${command}': ${err.message}`))));
  spawnError.catch(() => undefined);

  return {
    child,
    get pid() { return child.pid ?? -1; },
    output: () => out,
    waitForLine(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = re.exec(out);
          if (m !== null) { done(); resolve(m); return true; }
          return false;
        };
        const onExit = (): void => { done(); reject(new Error(`${what} exited (code ${child.exitCode ?? child.signalCode}) before it was ready:\n${out.trim()}`)); };
        const timer = setTimeout(() => { done(); reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${out.trim()}`)); }, timeoutMs);
        const listener = (): void => { check(); };
        const done = (): void => { clearTimeout(timer); listeners.delete(listener); child.off('exit', onExit); };
        if (check()) return;
        listeners.add(listener);
        child.once('exit', onExit);
        spawnError.catch((err: unknown) => { done(); reject(err instanceof Error ? err : new Error(String(err))); });
      });
    },
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
