// TLS everywhere around the control plane, with real parts: an etcd member that accepts only
// clients with certificates of its CA and has auth enabled (a password user and a certificate-CN
// user, both limited to /fastpubsub/), a control plane that serves HTTPS and reaches that etcd,
// and a relay that verifies the control plane's certificate with its `control.caFile`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, isFpsError } from '@fastpubsub/core';
import { startControl, type Control, type ControlConfigInput } from '@fastpubsub/control';
import { MASTER_TOKEN, startRelay, type Relay } from '@fastpubsub/testkit/relay';
import { TlsEtcd } from './etcd-tls.js';
import { httpsJson, openWatch, servedSerial } from './https-client.js';
import { TestPki } from './tls-pki.js';

const POP_TOKEN = 'tls-test-pop-token-0123456789abcdef-xyz';
const ETCD_PASSWORD = 'etcd-password-for-the-control-plane';
let dir = '';
let pki: TestPki;
let etcd: TlsEtcd | undefined;
const controls: Control[] = [];
const relays: Relay[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fps-control-tls-'));
  pki = new TestPki(dir).createCa();
  etcd = await TlsEtcd.start(pki, dir);
  etcd.enableAuth(ETCD_PASSWORD);
});

after(async () => {
  for (const r of relays) await r.close({ graceMs: 0 }).catch(() => undefined);
  for (const c of controls) await c.close().catch(() => undefined);
  etcd?.stop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function control(store: Extract<ControlConfigInput['store'], { kind: 'etcd' }>, https = pki.issue('control-https', 'control', { ips: ['127.0.0.1'] })): Promise<Control> {
  const c = await startControl({
    listen: { host: '127.0.0.1', port: 0 },
    tls: https,
    operatorToken: MASTER_TOKEN,
    popToken: POP_TOKEN,
    store,
    logLevel: 'silent',
    popLeaseMs: 3000,
  });
  controls.push(c);
  return c;
}

/** How startControl ended within 15 s: its error code, 'accepted', or 'hung'. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    const c = await Promise.race([p, new Promise((r) => setTimeout(() => r('hung'), 15_000).unref())]);
    if (c === 'hung') return 'hung';
    if (c !== null && typeof c === 'object' && 'close' in c) await (c as Control).close();
  } catch (err) {
    return isFpsError(err) ? err.code : String(err);
  }
  return 'accepted';
}

test('the control plane serves HTTPS and stores in etcd over client-certificate TLS with password auth', { timeout: 60_000 }, async () => {
  const client = pki.issue('control-etcd-client', 'control-with-password', { client: true, server: false });
  const c = await control({ kind: 'etcd', endpoints: [etcd!.endpoint], tls: { caFile: pki.caFile, ...client }, auth: { username: 'fastpubsub', password: ETCD_PASSWORD } });
  assert.match(c.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const created = await httpsJson(c.url, 'POST', '/v1/tenants', { ca: pki.caFile, bearer: MASTER_TOKEN, body: { id: 'tls-tenant' } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  // The record is in etcd, under the prefix the role allows.
  assert.match(etcd!.ctl(['get', '--prefix', '/fastpubsub/tenant', '--keys-only']), /tls-tenant/);
  // A client that does not trust the private CA is refused by TLS, not served.
  await assert.rejects(httpsJson(c.url, 'GET', '/v1/tenants', { bearer: MASTER_TOKEN }), /self[- ]signed|unable to verify/i);
});

test('etcd refuses a wrong password, a missing client certificate and a prefix outside the role', { timeout: 60_000 }, async () => {
  const client = pki.issue('control-etcd-client2', 'control-with-password', { client: true, server: false });
  const tls = { caFile: pki.caFile, ...client };
  assert.equal(await refusal(control({ kind: 'etcd', endpoints: [etcd!.endpoint], tls, auth: { username: 'fastpubsub', password: 'wrong-password' } })), 'store_unavailable');
  assert.equal(await refusal(control({ kind: 'etcd', endpoints: [etcd!.endpoint], tls: { caFile: pki.caFile }, auth: { username: 'fastpubsub', password: ETCD_PASSWORD } })), 'store_unavailable');
  assert.equal(
    await refusal(control({ kind: 'etcd', endpoints: [etcd!.endpoint], prefix: '/elsewhere', tls, auth: { username: 'fastpubsub', password: ETCD_PASSWORD } })),
    'store_unavailable',
  );
  assert.equal(await refusal(control({ kind: 'etcd', endpoints: [etcd!.endpoint], tls: { caFile: join(dir, 'no-such-ca.pem') } })), 'config_invalid');
});

test('a client certificate alone authenticates as its CN user', { timeout: 60_000 }, async () => {
  const client = pki.issue('control-cn', 'fastpubsub-cn', { client: true, server: false });
  const c = await control({ kind: 'etcd', endpoints: [etcd!.endpoint], tls: { caFile: pki.caFile, ...client } });
  assert.equal((await httpsJson(c.url, 'POST', '/v1/tenants', { ca: pki.caFile, bearer: MASTER_TOKEN, body: { id: 'cn-tenant' } })).status, 201);
  assert.match(etcd!.ctl(['get', '--prefix', '/fastpubsub/tenant', '--keys-only']), /cn-tenant/);
  // A certificate whose CN is no etcd user gets no access.
  const stranger = pki.issue('control-stranger', 'nobody-here', { client: true, server: false });
  assert.equal(await refusal(control({ kind: 'etcd', endpoints: [etcd!.endpoint], tls: { caFile: pki.caFile, ...stranger } })), 'store_unavailable');
});

test('a relay verifies the control plane with control.caFile; the certificate is renewed while its watch stays up', { timeout: 60_000 }, async () => {
  const httpsFiles = { certFile: join(dir, 'live.pem'), keyFile: join(dir, 'live.key') };
  const first = pki.issue('https-1', 'control', { ips: ['127.0.0.1'] });
  copyFileSync(first.certFile, httpsFiles.certFile);
  copyFileSync(first.keyFile, httpsFiles.keyFile);
  const client = pki.issue('control-cn-2', 'fastpubsub-cn', { client: true, server: false });
  const c = await control({ kind: 'etcd', endpoints: [etcd!.endpoint], tls: { caFile: pki.caFile, ...client } }, httpsFiles);
  const relayDir = await mkdtemp(join(dir, 'relay-'));
  const relay = await startRelay({
    listen: { host: '127.0.0.1', port: 0 },
    masterToken: MASTER_TOKEN,
    dataDir: relayDir,
    logLevel: 'silent',
    region: 'TLS',
    control: { urls: [c.url], token: POP_TOKEN, caFile: pki.caFile, popId: 'pop-tls', heartbeatMs: 300 },
  });
  relays.push(relay);
  const pops = async (): Promise<string[]> =>
    ((await httpsJson(c.url, 'GET', '/v1/pops', { ca: pki.caFile, bearer: POP_TOKEN })).json as { pops: Array<{ id: string }> }).pops.map((p) => p.id);
  const registered = async (id: string, want: boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while ((await pops()).includes(id) !== want) {
      assert.ok(Date.now() < deadline, `pop ${id} ${want ? 'never registered' : 'still registered'}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await registered('pop-tls', true);
  const watch = openWatch(c.url, pki.caFile, POP_TOKEN);
  await watch.waitFor(/snapshot/, 5000);

  // Renewal: new files in place, reload; new connections get the new certificate, the watch stays.
  const port = Number(new URL(c.url).port);
  const before = await servedSerial('127.0.0.1', port, pki.caFile);
  const second = pki.issue('https-2', 'control', { ips: ['127.0.0.1'] });
  copyFileSync(second.certFile, httpsFiles.certFile);
  copyFileSync(second.keyFile, httpsFiles.keyFile);
  await c.reloadTls();
  const afterSerial = await servedSerial('127.0.0.1', port, pki.caFile);
  assert.notEqual(afterSerial, before);
  // A change made now reaches the stream opened before the renewal: the connection stayed up.
  assert.equal((await httpsJson(c.url, 'POST', '/v1/tenants', { ca: pki.caFile, bearer: MASTER_TOKEN, body: { id: 'after-rotation' } })).status, 201);
  const limits = await httpsJson(c.url, 'PUT', '/v1/tenants/after-rotation/limits', { ca: pki.caFile, bearer: MASTER_TOKEN, body: { messagesPerSecond: 7 } });
  assert.equal(limits.status, 200, JSON.stringify(limits.json));
  assert.match(await watch.waitFor(/after-rotation/, 5000), /messagesPerSecond/);
  watch.close();
  assert.ok((await pops()).includes('pop-tls'), 'the relay stays registered across the renewal');

  // A relay without the CA cannot reach the control plane: it never registers, and says why.
  const warnings: string[] = [];
  const logger = createLogger({ level: 'warn', write: (line) => warnings.push(line) });
  const blind = await startRelay({
    listen: { host: '127.0.0.1', port: 0 },
    masterToken: MASTER_TOKEN,
    dataDir: await mkdtemp(join(dir, 'relay-')),
    logLevel: 'silent',
    region: 'TLS',
    control: { urls: [c.url], token: POP_TOKEN, popId: 'pop-blind', heartbeatMs: 300 },
  }, { logger });
  relays.push(blind);
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(!(await pops()).includes('pop-blind'), 'a relay that does not trust the CA must not register');
  const untrusted = warnings.filter((l) => l.includes('control plane certificate not trusted'));
  assert.equal(untrusted.length, 1, warnings.join('\n'));
  assert.match(untrusted[0]!, /"code":"(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)"/);
});
