// `fastpubsub control --tls-cert/--tls-key`: serves HTTPS, SIGHUP re-reads the certificate (a
// broken pair is refused and the old one kept), and the etcd TLS/auth flags land in the config
// the strict schema checks (a client certificate without its key is refused, exit 1).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpsJson, servedSerial } from './https-client.js';
import { TestPki } from './tls-pki.js';

const RUN = `import('@fastpubsub/control/cli').then(async (m) => process.exit(await m.command.run(process.argv.slice(1))))`;
const nodeArgs = ['--conditions=development', '--import', 'tsx', '-e', RUN, '--'];
const OPERATOR = 'cli-tls-operator-token-0123456789abcdefgh';
let dir = '';
after(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

test('control over HTTPS from the CLI; SIGHUP renews the certificate, a broken pair keeps the old one', { timeout: 60_000 }, async () => {
  dir = await mkdtemp(join(tmpdir(), 'fps-control-cli-tls-'));
  const pki = new TestPki(dir).createCa();
  const live = { certFile: join(dir, 'live.pem'), keyFile: join(dir, 'live.key') };
  const first = pki.issue('first', 'control', { ips: ['127.0.0.1'] });
  copyFileSync(first.certFile, live.certFile);
  copyFileSync(first.keyFile, live.keyFile);
  const child = spawn(
    process.execPath,
    [...nodeArgs, '--listen', '127.0.0.1:0', '--operator-token', OPERATOR, '--data-dir', join(dir, 'data'), '--log-level', 'silent', '--tls-cert', live.certFile, '--tls-key', live.keyFile],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`no ready line: ${out} ${stderr}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (https:\/\/\S+)/.exec(out);
        if (m !== null) {
          clearTimeout(t);
          resolve(m[1] as string);
        }
      });
    });
    assert.equal((await httpsJson(url, 'POST', '/v1/tenants', { ca: pki.caFile, bearer: OPERATOR, body: { id: 'cli-tls' } })).status, 201);
    const port = Number(new URL(url).port);
    const before = await servedSerial('127.0.0.1', port, pki.caFile);

    const waitFor = async (re: RegExp): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!re.test(stderr)) {
        assert.ok(Date.now() < deadline, `stderr never matched ${String(re)}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // A key that is not the certificate's: refused, the old certificate stays.
    const other = pki.issue('other', 'control', { ips: ['127.0.0.1'] });
    copyFileSync(other.keyFile, live.keyFile);
    child.kill('SIGHUP');
    await waitFor(/TLS reload failed, keeping the old certificate/);
    assert.equal(await servedSerial('127.0.0.1', port, pki.caFile), before);
    // The matching pair: served from the next connection on.
    copyFileSync(other.certFile, live.certFile);
    child.kill('SIGHUP');
    await waitFor(/TLS certificate reloaded/);
    assert.notEqual(await servedSerial('127.0.0.1', port, pki.caFile), before);
    const code = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    child.kill('SIGTERM');
    assert.equal(await code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('etcd TLS flags are validated strictly: a client certificate needs its key', () => {
  const r = spawnSync(
    process.execPath,
    [...nodeArgs, '--operator-token', OPERATOR, '--store', 'etcd', '--etcd-endpoints', 'https://127.0.0.1:1', '--etcd-ca', '/nonexistent/ca.pem', '--etcd-cert', '/nonexistent/c.pem'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /store/);
  const pw = spawnSync(
    process.execPath,
    [...nodeArgs, '--operator-token', OPERATOR, '--store', 'etcd', '--etcd-endpoints', 'https://127.0.0.1:1', '--etcd-ca', '/nonexistent/ca.pem', '--etcd-user', 'fastpubsub'],
    { encoding: 'utf8', timeout: 20_000, env: { ...process.env, FASTPUBSUB_ETCD_PASSWORD: '' } },
  );
  // A user without a password (FASTPUBSUB_ETCD_PASSWORD empty) is a config error, not a hang.
  assert.equal(pw.status, 1, pw.stderr);
  assert.match(pw.stderr, /password/);
});
