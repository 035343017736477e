// `fastpubsub agent` and `fastpubsub mesh issue-agent` as real child processes: help, usage
// errors with exit 2, an agent started with a relay's certificate refused with exit 1, and an
// agent certificate that names its tenant.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, exitWithin, killChildren } from './harness.js';

const TOKEN = 'cli-test-master-token-0123456789';
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-cli-'));
});
after(async () => {
  killChildren();
  await rm(dir, { recursive: true, force: true });
});

test('agent --help names the tunnel flags', async () => {
  const run = cli(['agent', '--help']);
  assert.equal(await exitWithin(run), 0);
  for (const flag of ['--fabric', '--cert', '--key', '--ca', '--listen', '--mqtt-listen']) assert.ok(run.stdout().includes(flag), flag);
});

test('agent usage errors exit 2 and say what is wrong', async () => {
  const missing = cli(['agent', '--listen', '127.0.0.1:0', '--master-token', TOKEN]);
  assert.equal(await exitWithin(missing), 2);
  assert.match(missing.stderr(), /--ca is required/);
  const badFabric = cli(['agent', '--fabric', 'nohost', '--ca', 'a', '--cert', 'b', '--key', 'c', '--listen', '127.0.0.1:0', '--master-token', TOKEN]);
  assert.equal(await exitWithin(badFabric), 2);
  assert.match(badFabric.stderr(), /--fabric: 'nohost' is not HOST:PORT/);
});

test('mesh issue-agent binds a certificate to its tenant; an agent refuses to run with a relay certificate', async () => {
  const pki = join(dir, 'pki');
  assert.equal(await exitWithin(cli(['mesh', 'init', '--out', pki, '--relays', 'pop-a'])), 0);
  const noCa = cli(['mesh', 'issue-agent', '--out', join(dir, 'empty'), '--id', 'x', '--tenant', 't']);
  assert.equal(await exitWithin(noCa), 1);
  assert.match(noCa.stderr(), /no mesh CA/);
  const issued = cli(['mesh', 'issue-agent', '--out', pki, '--id', 'plant-7', '--tenant', 'acme']);
  assert.equal(await exitWithin(issued), 0);
  const cert = new X509Certificate(await readFile(join(pki, 'plant-7.pem')));
  assert.ok(cert.subjectAltName?.includes('URI:urn:fastpubsub:agent-tenant:acme'), cert.subjectAltName);
  assert.ok(cert.checkIssued(new X509Certificate(await readFile(join(pki, 'ca.pem')))));

  const data = await mkdtemp(join(dir, 'data-'));
  const wrong = cli(['agent', '--fabric', '127.0.0.1:9', '--ca', join(pki, 'ca.pem'), '--cert', join(pki, 'pop-a.pem'), '--key', join(pki, 'pop-a.key'),
    '--listen', '127.0.0.1:0', '--master-token', TOKEN, '--data-dir', data, '--log-level', 'silent']);
  assert.equal(await exitWithin(wrong), 1);
  assert.match(wrong.stderr(), /relay certificate, not an agent's/);
});
