// Three "hosts" for the deployment rehearsal: network namespaces fpsdep1..3 with 10.0.0.1..3 on
// a bridge in a fourth namespace (fpsdepnet), each with its own /etc/fastpubsub, /etc/etcd,
// /etc/systemd/system, /var/lib/fastpubsub, /var/lib/etcd and /opt/fastpubsub, bind-mounted in
// a private mount namespace for every command it runs. `systemctl enable --now UNIT` starts the
// unit file's ExecStart (with EnvironmentFile and StateDirectory) as the host's service.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

export const HOSTS = [1, 2, 3] as const;
const NET = 'fpsdepnet';
const ns = (n: number): string => `fpsdep${n}`;
/** Per-host directories, mounted over these paths inside the host's commands. */
const MOUNTS = ['/etc/fastpubsub', '/etc/etcd', '/etc/systemd/system', '/var/lib/fastpubsub', '/var/lib/etcd', '/opt/fastpubsub'];

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

export function removeNamespaces(): void {
  for (const name of [...HOSTS.map(ns), NET]) spawnSync('ip', ['netns', 'del', name], { timeout: 10_000 });
}

export class Hosts {
  readonly #services = new Map<number, ChildProcess[]>();
  /** The live process of each started unit, by `${host}/${unit}`. */
  readonly #units = new Map<string, ChildProcess>();
  readonly #createdMountpoints: string[] = [];

  constructor(readonly root: string, readonly repo: string, readonly workDir: string) {}

  /** Namespaces, links, per-host directories, and a `npx` that runs this checkout's CLI. */
  setUp(): void {
    removeNamespaces();
    ip(['netns', 'add', NET]);
    ip(['-n', NET, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', NET, 'link', 'set', 'br0', 'up']);
    for (const n of HOSTS) {
      ip(['netns', 'add', ns(n)]);
      ip(['link', 'add', 'eth0', 'netns', ns(n), 'type', 'veth', 'peer', 'name', `veth${n}`, 'netns', NET]);
      ip(['-n', NET, 'link', 'set', `veth${n}`, 'master', 'br0', 'up']);
      ip(['-n', ns(n), 'addr', 'add', `10.0.0.${n}/24`, 'dev', 'eth0']);
      ip(['-n', ns(n), 'link', 'set', 'eth0', 'up']);
      ip(['-n', ns(n), 'link', 'set', 'lo', 'up']);
      for (const m of MOUNTS) mkdirSync(this.#hostDir(n, m), { recursive: true });
      // The packages "installed" in /opt/fastpubsub: this checkout's build.
      symlinkSync(join(this.repo, 'node_modules'), join(this.#hostDir(n, '/opt/fastpubsub'), 'node_modules'));
    }
    for (const m of MOUNTS) {
      if (!existsSync(m)) {
        mkdirSync(m, { recursive: true });
        this.#createdMountpoints.push(m);
      }
    }
    const bin = join(this.root, 'bin');
    mkdirSync(bin, { recursive: true });
    const cli = join(this.repo, 'packages/cli/bin/fastpubsub.js');
    const shim = `#!/bin/sh\n[ "$1" = fastpubsub ] || { echo "npx: only fastpubsub in the rehearsal" >&2; exit 127; }\nshift\nexec /usr/bin/node ${cli} "$@"\n`;
    spawnSync('sh', ['-c', `cat > ${bin}/npx && chmod 0755 ${bin}/npx`], { input: shim });
  }

  #hostDir(n: number, path: string): string {
    return join(this.root, `host-${n}`, path.replaceAll('/', '_'));
  }

  /** The command line that runs `script` in host n (its netns, its directories), or on the admin machine (n = 0). */
  #command(n: number, script: string): string[] {
    const strict = `set -euo pipefail\n${script}`;
    if (n === 0) return ['bash', '-c', strict];
    const mounts = MOUNTS.map((m) => `mount --bind ${this.#hostDir(n, m)} ${m}`).join('\n');
    return ['ip', 'netns', 'exec', ns(n), 'unshare', '--mount', '--propagation', 'private', 'bash', '-c', `${mounts}\n${strict}`];
  }

  #env(n: number): NodeJS.ProcessEnv {
    return { PATH: `${join(this.root, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: this.workDir, N: n === 0 ? '' : String(n), LANG: 'C.UTF-8' };
  }

  /** Runs a script to completion (60 s at most); throws with its output unless it exits 0. */
  async run(n: number, script: string, timeoutMs = 60_000): Promise<string> {
    const [cmd, ...args] = this.#command(n, script);
    const child = spawn(cmd as string, args, { cwd: this.workDir, env: this.#env(n), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    if (code !== 0) throw new Error(`host ${n === 0 ? 'admin' : n}: exit ${String(code)} running:\n${script}\n--- output ---\n${out.slice(-4000)}`);
    return out;
  }

  /** `systemctl enable --now UNIT…` on host n: each unit's ExecStart, from the unit file installed on that host. */
  startUnits(n: number, units: string[]): void {
    for (const name of units) {
      const unit = name.replace(/\.service$/, '');
      const file = join(this.#hostDir(n, '/etc/systemd/system'), unit.endsWith('.service') ? unit : `${unit}.service`);
      const text = readFileSync(file, 'utf8');
      const key = (k: string): string | undefined => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1]?.trim();
      const exec = key('ExecStart');
      if (exec === undefined) throw new Error(`${file}: no ExecStart`);
      const envFile = key('EnvironmentFile');
      const state = key('StateDirectory');
      const lines = [
        state === undefined ? '' : `mkdir -p /var/lib/${state} && chmod ${key('StateDirectoryMode') ?? '0755'} /var/lib/${state}`,
        envFile === undefined ? '' : `set -a; . ${envFile}; set +a`,
        `exec ${exec}`,
      ];
      const [cmd, ...args] = this.#command(n, lines.filter((l) => l !== '').join('\n'));
      const log = createWriteStream(join(this.root, `host-${n}-${unit}.log`), { flags: 'a' });
      const child = spawn(cmd as string, args, { cwd: this.workDir, env: this.#env(n), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
      child.once('exit', (code, signal) => log.end(`\n[${unit} exited: code ${String(code)}, signal ${String(signal)}]\n`));
      this.#track(n, child);
      this.#units.set(`${n}/${unit}`, child);
    }
  }

  #track(n: number, child: ChildProcess): void {
    const list = this.#services.get(n) ?? [];
    list.push(child);
    this.#services.set(n, list);
  }

  /** `systemctl reload UNIT` (the units here reload on SIGHUP). */
  reloadUnit(n: number, unit: string): void {
    const child = this.#units.get(`${n}/${unit.replace(/\.service$/, '')}`);
    if (child === undefined || child.exitCode !== null) throw new Error(`host ${n}: ${unit} is not running`);
    child.kill('SIGHUP');
  }

  /** `systemctl restart UNIT`: SIGTERM, wait for the exit (40 s at most, then SIGKILL), start again. */
  async restartUnit(n: number, unit: string): Promise<void> {
    const name = unit.replace(/\.service$/, '');
    const child = this.#units.get(`${n}/${name}`);
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await exited;
      clearTimeout(timer);
    }
    this.startUnits(n, [name]);
  }

  /** A long-running command in host n (e.g. a subscriber); its output goes to `logName` in the work dir. */
  background(n: number, script: string, logName: string): ChildProcess {
    const [cmd, ...args] = this.#command(n, script);
    const out = createWriteStream(join(this.workDir, logName));
    const child = spawn(cmd as string, args, { cwd: this.workDir, env: this.#env(n), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(createWriteStream(join(this.workDir, `${logName}.err`)));
    this.#track(n, child);
    return child;
  }

  /** A host failure: every service of host n killed, its link down. */
  killHost(n: number): void {
    for (const child of this.#services.get(n) ?? []) if (child.exitCode === null) child.kill('SIGKILL');
    ip(['-n', ns(n), 'link', 'set', 'eth0', 'down']);
  }

  /** The tail of a service's log, for failure messages. */
  log(n: number, unit: string): string {
    const file = join(this.root, `host-${n}-${unit}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-3000) : '(no log)';
  }

  async tearDown(): Promise<void> {
    const all = [...this.#services.values()].flat();
    for (const child of all) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(all.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('close', r)))));
    removeNamespaces();
    for (const m of this.#createdMountpoints) {
      try {
        rmdirSync(m);
      } catch {
        // not empty or gone: leave it
      }
    }
  }
}
