// One real etcd member that serves clients only over TLS with client certificates
// (--client-cert-auth), then has auth enabled with etcdctl: a `root` user, a `fastpubsub` role
// limited to the /fastpubsub/ prefix, and users holding it. Bounded waits; killed in stop().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './etcd-cluster.js';
import { requireTool, type TestPki } from './tls-pki.js';

export class TlsEtcd {
  readonly log: string[] = [];
  constructor(readonly endpoint: string, readonly proc: ChildProcess, readonly pki: TestPki, readonly root: { certFile: string; keyFile: string }) {}

  static async start(pki: TestPki, dataDir: string): Promise<TlsEtcd> {
    requireTool('/usr/bin/etcd', 'etcd-server');
    requireTool('/usr/bin/etcdctl', 'etcd-client');
    const server = pki.issue('etcd-server', 'etcd-server', { ips: ['127.0.0.1'] });
    const root = pki.issue('etcd-root', 'root', { client: true, server: false });
    const client = `https://127.0.0.1:${await freePort()}`;
    const peer = `http://127.0.0.1:${await freePort()}`;
    const proc = spawn(
      '/usr/bin/etcd',
      [
        '--name', 'm0', '--data-dir', join(dataDir, 'etcd'),
        '--listen-client-urls', client, '--advertise-client-urls', client,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `m0=${peer}`,
        '--cert-file', server.certFile, '--key-file', server.keyFile, '--trusted-ca-file', pki.caFile, '--client-cert-auth',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const e = new TlsEtcd(client, proc, pki, root);
    proc.stderr?.on('data', (b: Buffer) => e.log.push(b.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        e.ctl(['endpoint', 'health']);
        break;
      } catch (err) {
        if (Date.now() > deadline || proc.exitCode !== null) {
          proc.kill('SIGKILL');
          throw new Error(`TLS etcd did not become healthy: ${(err as Error).message}\n${e.log.join('').slice(-2000)}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return e;
  }

  /** etcdctl as the `root` certificate (CN=root); returns stdout. */
  ctl(args: string[], user?: string): string {
    const tls = ['--endpoints', this.endpoint, '--cacert', this.pki.caFile, '--cert', this.root.certFile, '--key', this.root.keyFile];
    return execFileSync('/usr/bin/etcdctl', [...tls, ...(user === undefined ? [] : ['--user', user]), ...args], {
      stdio: 'pipe',
      timeout: 15_000,
      env: { ...process.env, ETCDCTL_API: '3' },
    }).toString();
  }

  /** Users `fastpubsub` (password) and `fastpubsub-cn` (no password: certificate CN), both limited to /fastpubsub/; then auth on. */
  enableAuth(password: string): void {
    this.ctl(['user', 'add', 'root:root-password-not-used-by-tests']);
    this.ctl(['user', 'grant-role', 'root', 'root']);
    this.ctl(['role', 'add', 'fastpubsub']);
    this.ctl(['role', 'grant-permission', 'fastpubsub', '--prefix=true', 'readwrite', '/fastpubsub/']);
    this.ctl(['user', 'add', `fastpubsub:${password}`]);
    this.ctl(['user', 'grant-role', 'fastpubsub', 'fastpubsub']);
    this.ctl(['user', 'add', 'fastpubsub-cn', '--no-password']);
    this.ctl(['user', 'grant-role', 'fastpubsub-cn', 'fastpubsub']);
    this.ctl(['auth', 'enable']);
  }

  stop(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}
