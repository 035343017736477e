// A conformance driver as a child process speaking the driver protocol
// (spec/conformance/driver-protocol.md): JSON lines, commands with ids, one reply each, events.
import { spawn, type ChildProcess } from 'node:child_process';

export interface DriverError {
  code: string;
  serverCode: string | null;
  message: string;
}

export type Reply = { id: number; ok: true; [k: string]: unknown } | { id: number; ok: false; error: DriverError };

export interface DriverEvent {
  event: string;
  client?: string;
  [k: string]: unknown;
}

const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 3000;
const STDERR_TAIL = 8192;

export class DriverProcess {
  readonly transports: string[];
  readonly sdk: string;
  /** Every event, in arrival order. */
  readonly events: DriverEvent[] = [];
  /** Lines that broke the protocol (not JSON, reply to an unknown id, …). */
  readonly violations: string[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, (r: Reply) => void>();
  private readonly listeners = new Set<() => void>();
  private stderrTail = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    ready: DriverEvent,
  ) {
    this.sdk = String(ready['sdk']);
    this.transports = Array.isArray(ready['transports']) ? (ready['transports'] as unknown[]).map(String) : ['websocket'];
  }

  /** Starts `command` (through bash, cwd = repo root) and resolves on its `ready` event. */
  static start(command: string, cwd: string): Promise<DriverProcess> {
    // detached: its own process group, so stop() ends the driver and anything it started.
    const child = spawn('bash', ['-c', command], { cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let driver: DriverProcess | undefined;
    let stderr = '';
    let buffered = '';
    return new Promise<DriverProcess>((resolve, reject) => {
      const timer = setTimeout(() => {
        killGroup(child);
        reject(new Error(`driver did not write {"event":"ready"} within ${READY_TIMEOUT_MS} ms; stderr: ${stderr.slice(-2000)}`));
      }, READY_TIMEOUT_MS);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (driver === undefined) reject(new Error(`driver exited (${String(code ?? signal)}) before ready; stderr: ${stderr.slice(-2000)}`));
        else driver.onExit();
      });
      child.stdin.on('error', () => {}); // EPIPE after the driver died: reported through exit
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        if (driver === undefined) stderr = (stderr + s).slice(-STDERR_TAIL);
        else driver.stderrTail = (driver.stderrTail + s).slice(-STDERR_TAIL);
      });
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        buffered += s;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === '') continue;
          if (driver !== undefined) {
            driver.onLine(line);
            continue;
          }
          let msg: unknown;
          try {
            msg = JSON.parse(line);
          } catch {
            msg = undefined;
          }
          const ready = msg as DriverEvent | undefined;
          if (ready?.event === 'ready') {
            clearTimeout(timer);
            driver = new DriverProcess(child, ready);
            driver.stderrTail = stderr;
            resolve(driver);
          } else {
            clearTimeout(timer);
            killGroup(child);
            reject(new Error(`driver's first line is not {"event":"ready",…}: ${line.slice(0, 200)}`));
          }
        }
      });
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.violations.push(`not JSON: ${line.slice(0, 200)}`);
      return this.notify();
    }
    if (typeof msg['event'] === 'string') {
      this.events.push(msg as DriverEvent);
    } else if (typeof msg['id'] === 'number' && typeof msg['ok'] === 'boolean') {
      const resolve = this.pending.get(msg['id']);
      if (resolve === undefined) this.violations.push(`reply to an unknown or already answered id: ${line.slice(0, 200)}`);
      else {
        this.pending.delete(msg['id']);
        resolve(msg as unknown as Reply);
      }
    } else {
      this.violations.push(`neither an event nor a reply: ${line.slice(0, 200)}`);
    }
    this.notify();
  }

  private onExit(): void {
    this.exited = true;
    for (const [id, resolve] of this.pending) {
      resolve({ id, ok: false, error: { code: 'driver_exited', serverCode: null, message: 'the driver exited before replying' } });
    }
    this.pending.clear();
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Calls `check` after each line (and now); resolves with its first non-undefined value. */
  waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => {
        let v: T | undefined;
        try {
          v = check();
        } catch (err) {
          done();
          return reject(err instanceof Error ? err : new Error(String(err)));
        }
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.exited) {
          done();
          reject(new Error(`the driver exited while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  /** Sends one command; resolves with its reply, or rejects after `timeoutMs`. */
  request(command: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    if (this.exited) return Promise.reject(new Error('the driver has exited'));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${String(command['op'])} (id ${id}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  }

  /** `exit`, then SIGTERM, then SIGKILL to the driver's process group; bounded. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await Promise.race([this.request({ op: 'exit' }, EXIT_TIMEOUT_MS), gone]);
    } catch {
      // no reply: terminate below
    }
    const bounded = (ms: number): Promise<boolean> =>
      Promise.race([gone.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
    if (await bounded(EXIT_TIMEOUT_MS)) return;
    killGroup(this.child, 'SIGTERM');
    if (await bounded(EXIT_TIMEOUT_MS)) return;
    killGroup(this.child, 'SIGKILL');
    await bounded(EXIT_TIMEOUT_MS);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
