// deploy/ stays correct: the alert rules pass `promtool check rules` and their unit tests
// (`promtool test rules`), refer only to metrics a relay exports, the example configs pass the
// relay's and control plane's strict config validation, and the systemd units pass
// `systemd-analyze verify`. A missing tool fails the test with the package to install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveRelayConfig } from '@fastpubsub/core';
import { resolveControlConfig } from '@fastpubsub/control';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const LONG_SECRET = 'deploy-test-secret-0123456789abcdefghij';

function tool(path: string, debianPackage: string): string {
  assert.ok(existsSync(path), `${path} is missing: apt-get install ${debianPackage}`);
  return path;
}

function run(command: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(command, args, { cwd: DEPLOY, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the alert rules pass promtool check rules and their promtool unit tests', () => {
  const promtool = tool('/usr/bin/promtool', 'prometheus');
  const check = run(promtool, ['check', 'rules', 'prometheus/fastpubsub-alerts.yml']);
  assert.equal(check.status, 0, check.out);
  assert.match(check.out, /SUCCESS: \d+ rules found/);
  const unit = run(promtool, ['test', 'rules', 'prometheus/fastpubsub-alerts.test.yml']);
  assert.equal(unit.status, 0, unit.out);
});

test('every metric the alert rules use is one a relay exports', () => {
  const rules = readFileSync(join(DEPLOY, 'prometheus/fastpubsub-alerts.yml'), 'utf8');
  const used = new Set([...rules.matchAll(/\b(fastpubsub_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')));
  assert.ok(used.size >= 5, [...used].join());
  const sources = ['metrics.ts', 'mesh/metrics.ts'].map((f) => readFileSync(join(ROOT, 'packages/relay/src', f), 'utf8')).join('\n');
  assert.deepEqual([...used].filter((name) => !sources.includes(`'${name}'`)), [], 'metrics no relay exports');
});

test('the per-host relay and control-plane configs pass strict validation and agree with each other', () => {
  for (const i of [1, 2, 3]) {
    const relay = JSON.parse(readFileSync(join(DEPLOY, `config/relay-${i}.json`), 'utf8')) as Record<string, unknown>;
    const r = resolveRelayConfig({ ...relay, masterToken: LONG_SECRET });
    assert.equal(r.quic.listen.port, 443);
    assert.ok(r.tls !== undefined, `relay-${i}: public edges over TLS`);
    assert.equal(r.mesh?.advertise, `10.0.0.${i}:7702`);
    assert.deepEqual([...(r.mesh?.seeds ?? [])].sort(), [1, 2, 3].filter((o) => o !== i).map((o) => `10.0.0.${o}:7702`));
    assert.deepEqual([...(r.control?.urls ?? [])].sort(), [1, 2, 3].map((o) => `https://10.0.0.${o}:7800`));
    assert.ok(r.control?.caFile !== undefined, `relay-${i}: verifies the control plane's certificate`);
    const control = JSON.parse(readFileSync(join(DEPLOY, `config/control-${i}.json`), 'utf8')) as Record<string, unknown>;
    const c = resolveControlConfig({ ...control, operatorToken: LONG_SECRET });
    assert.equal(c.listen.host, `10.0.0.${i}`);
    assert.ok(c.tls !== undefined, `control-${i}: HTTPS`);
    assert.equal(c.store.kind, 'etcd');
    if (c.store.kind !== 'etcd') continue;
    assert.deepEqual([...c.store.endpoints].sort(), [1, 2, 3].map((o) => `https://10.0.0.${o}:2379`));
    assert.ok(c.store.tls?.certFile !== undefined, `control-${i}: client certificate towards etcd`);
    const member = readFileSync(join(DEPLOY, `etcd/member-${i}.conf.yml`), 'utf8');
    assert.match(member, new RegExp(`^name: etcd-${i}$`, 'm'));
    assert.match(member, new RegExp(`^listen-client-urls: https://10\\.0\\.0\\.${i}:2379$`, 'm'));
    assert.match(member, /^initial-cluster: etcd-1=https:\/\/10\.0\.0\.1:2380,etcd-2=https:\/\/10\.0\.0\.2:2380,etcd-3=https:\/\/10\.0\.0\.3:2380$/m);
    assert.equal(member.match(/client-cert-auth: true/g)?.length, 2, `member ${i}: clients and peers need certificates`);
  }
});

test('the systemd units pass systemd-analyze verify without warnings', () => {
  const analyze = tool('/usr/bin/systemd-analyze', 'systemd');
  const units = readdirSync(join(DEPLOY, 'systemd')).filter((f) => f.endsWith('.service'));
  assert.equal(units.length, 3);
  for (const unit of units) {
    const r = run(analyze, ['verify', join('systemd', unit)]);
    // Unknown keys are only warnings (exit 0): any output at all fails the test.
    const relevant = r.out.split('\n').filter((l) => l.trim() !== '');
    assert.equal(r.status, 0, `${unit}: ${r.out}`);
    assert.deepEqual(relevant, [], `${unit}: ${r.out}`);
  }
});
