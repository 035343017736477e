// deploy/etcd/member-{1,2,3}.conf.yml form a working cluster: the three files, with only the
// host addresses, ports and file locations rewritten for loopback (127.0.0.21–23 stand in for
// 10.0.0.1–3), start three real etcd members that elect a leader over peer mutual TLS with
// certificates from a private CA, and each member reports itself healthy.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const members: ChildProcess[] = [];
let dir = '';

after(async () => {
  for (const m of members) if (m.exitCode === null) m.kill('SIGKILL');
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
}

test('the three etcd member configs start a healthy cluster with peer mutual TLS', { timeout: 120_000 }, async () => {
  assert.ok(existsSync('/usr/bin/etcd'), '/usr/bin/etcd is missing: apt-get install etcd-server');
  dir = await mkdtemp(join(tmpdir(), 'fps-etcd-deploy-'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=fastpubsub etcd CA', '-keyout', 'ca.key', '-out', 'ca.pem']);
  const hosts = [1, 2, 3].map((i) => ({ i, private: `10.0.0.${i}`, loopback: `127.0.0.${20 + i}` }));
  const ports = new Map<number, { client: number; peer: number }>();
  for (const h of hosts) ports.set(h.i, { client: await freePort(h.loopback), peer: await freePort(h.loopback) });

  for (const h of hosts) {
    // etcd checks a peer's certificate against the address it connects from; on loopback every
    // member connects from 127.0.0.1, which real hosts (each with its own address) do not need.
    writeFileSync(join(dir, `ext-${h.i}.cnf`), `subjectAltName=IP:${h.loopback},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=etcd-${h.i}`, '-keyout', `etcd-${h.i}.key`, '-out', `etcd-${h.i}.csr`]);
    openssl(['x509', '-req', '-in', `etcd-${h.i}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `ext-${h.i}.cnf`, '-out', `etcd-${h.i}.pem`]);
    let config = readFileSync(join(ROOT, `deploy/etcd/member-${h.i}.conf.yml`), 'utf8');
    for (const o of hosts) {
      const p = ports.get(o.i)!;
      config = config.replaceAll(`${o.private}:2379`, `${o.loopback}:${p.client}`).replaceAll(`${o.private}:2380`, `${o.loopback}:${p.peer}`);
    }
    config = config
      .replace(`,http://127.0.0.1:2379`, '') // the local-admin listener would clash between members on one machine
      .replaceAll('/etc/etcd/pki/', `${dir}/`)
      .replace('/var/lib/etcd/fastpubsub', join(dir, `data-${h.i}`));
    const settings = config.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    assert.doesNotMatch(settings, /10\.0\.0\.|\/etc\/|\/var\//, `member ${h.i}: every host path and address rewritten`);
    writeFileSync(join(dir, `member-${h.i}.conf.yml`), config);
  }

  let logs = '';
  for (const h of hosts) {
    const child = spawn('/usr/bin/etcd', ['--config-file', join(dir, `member-${h.i}.conf.yml`)], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      logs = (logs + s).slice(-20_000);
    });
    members.push(child);
  }

  const deadline = Date.now() + 60_000;
  for (const h of hosts) {
    const url = `http://${h.loopback}:${ports.get(h.i)!.client}/health`;
    let healthy = false;
    while (!healthy) {
      if (Date.now() > deadline) assert.fail(`etcd-${h.i} not healthy at ${url}; etcd logs:\n${logs.slice(-4000)}`);
      try {
        const body = (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json()) as { health?: string };
        healthy = body.health === 'true';
      } catch {
        // not up yet
      }
      if (!healthy) await new Promise((r) => setTimeout(r, 250));
    }
  }
  // Member 1 has a leader and two active peers (over the TLS peer URLs above).
  const metrics = await (await fetch(`http://127.0.0.21:${ports.get(1)!.client}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  assert.match(metrics, /^etcd_server_has_leader 1$/m);
  const activePeers = metrics.split('\n').filter((l) => l.startsWith('etcd_network_active_peers{') && l.endsWith(' 1'));
  assert.equal(activePeers.length, 2, activePeers.join('\n'));
  for (const m of members) m.kill('SIGTERM');
  await Promise.all(members.map((m) => (m.exitCode !== null ? Promise.resolve() : new Promise((r) => m.once('exit', r)))));
});
