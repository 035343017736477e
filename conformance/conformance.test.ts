// The conformance suite's own logic: the scenario files, the value and pattern matchers, SDK
// resolution, and the runner end to end — the TypeScript driver passes, broken drivers fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, SCENARIO_DIR, presentLanguages, resolveTargets } from './main.js';
import { loadScenarios, parseScenario } from './scenario.js';
import { mismatch, patternMatches, payloadBytes } from './values.js';
import { formatReport } from './report.js';

test('every scenario file is valid and the required behaviours are covered', () => {
  const names = loadScenarios(SCENARIO_DIR).map((s) => s.name);
  for (const required of ['connect-echo', 'wildcards', 'unsubscribe', 'payload-sizes', 'errors-connection-lives', 'deliver-one', 'token-refresh',
    'relay-restart', 'reconnect-migration', 'revoked-token', 'cross-pop', 'slow-consumer', 'publish-queue', 'fastest-edge']) {
    assert.ok(names.includes(required), `scenario ${required} missing (have ${names.join(', ')})`);
  }
});

test('scenario validation names the bad step', () => {
  const base = { name: 'x', description: 'd' };
  assert.throws(() => parseScenario({ ...base, steps: [{ do: 'teleport' }] }, 'f.json'), /f\.json step 1: unknown step "teleport"/);
  assert.throws(() => parseScenario({ ...base, steps: [{ do: 'publish', tenant: 't', channel: 'c', payload: 'raw' }] }, 'f.json'), /payload must be/);
  assert.throws(() => parseScenario({ ...base, steps: [{ do: 'connect', relay: 'standalone' }] }, 'f.json'), /token/);
  assert.throws(() => parseScenario({ ...base, steps: [{ do: 'sleep', ms: 60_000 }] }, 'f.json'), /sleep\.ms/);
  assert.throws(() => parseScenario({ ...base, name: 'Bad Name', steps: [{ do: 'sleep', ms: 1 }] }, 'f.json'), /kebab-case/);
});

test('pattern matching follows contract v0.1 (*, p*, #, >)', () => {
  const yes: Array<[string, string]> = [['a.*', 'a.b'], ['a.#', 'a'], ['a.#', 'a.b.c'], ['#', 'x.y'], ['a.>', 'a.b'], ['a.b', 'a.b'], ['a.p*', 'a.pq'], ['a.b.>', 'a.b.c.d']];
  const no: Array<[string, string]> = [['a.*', 'a'], ['a.*', 'a.b.c'], ['a.>', 'a'], ['a.b', 'a.c'], ['a.p*', 'a.q'], ['b.#', 'a.b']];
  for (const [p, c] of yes) assert.equal(patternMatches(p, c), true, `${p} ~ ${c}`);
  for (const [p, c] of no) assert.equal(patternMatches(p, c), false, `${p} !~ ${c}`);
});

test('value matchers and payload specs', () => {
  assert.equal(mismatch({ dropped: { min: 80, max: 90 } }, { dropped: 85 }, 'r'), undefined);
  assert.match(mismatch({ dropped: { min: 80 } }, { dropped: 3 }, 'r') ?? '', /r\.dropped: 3 < min 80/);
  assert.match(mismatch({ code: 'closed' }, { code: 'bad_argument' }, 'e') ?? '', /e\.code/);
  assert.equal(mismatch({ code: { oneOf: ['a', 'b'] } }, { code: 'b' }, 'e'), undefined);
  assert.equal(payloadBytes({ size: 65535 }).length, 65535);
  assert.equal(new Set(payloadBytes({ size: 256 })).size, 256, 'every byte value');
  assert.equal(payloadBytes({ text: 'm-{i}' }, 7).toString(), 'm-7');
  assert.deepEqual([...payloadBytes({ base64: 'AP8=' })], [0, 255]);
});

test('SDK resolution: all = ts + every sdks/<lang> with a driver; unknown names fail', () => {
  const root = mkdtempSync(join(tmpdir(), 'conf-root-'));
  try {
    mkdirSync(join(root, 'sdks', 'zig'), { recursive: true });
    mkdirSync(join(root, 'sdks', 'go'), { recursive: true });
    writeFileSync(join(root, 'sdks', 'go', 'driver'), '#!/bin/sh\n');
    assert.deepEqual(presentLanguages(root), ['ts', 'go']);
    assert.deepEqual(resolveTargets('go-quic', [], root).map((t) => [t.name, t.command, t.transport]), [['go-quic', 'sdks/go/driver', 'quic']]);
    assert.throws(() => resolveTargets('zig', [], root), /no driver for 'zig'/);
    assert.throws(() => resolveTargets('ts,go', ['x'], root), /exactly one/);
    assert.deepEqual(resolveTargets('zig,zig-quic,go', ['zig=/opt/zig/driver'], root).map((t) => t.command), ['/opt/zig/driver', '/opt/zig/driver', 'sdks/go/driver']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the report marks failures and a lossy throughput run', () => {
  const { text, failed } = formatReport(['a', 'b'], [
    { sdk: 'ts', scenarios: { a: 'pass', b: 'pass' }, failures: [], throughput: { messagesPerSecond: 1000, received: 10, seconds: 0.01 } },
    { sdk: 'go', scenarios: { a: 'pass', b: 'FAIL' }, failures: [{ scenario: 'b', message: 'boom', stderr: '' }], throughput: { error: 'lost messages' } },
  ], 10);
  assert.equal(failed, true);
  assert.match(text, /^b\s+pass\s+FAIL$/m);
  assert.match(text, /go \/ b: boom/);
  assert.equal(formatReport(['a'], [{ sdk: 'ts', scenarios: { a: 'pass' }, failures: [], throughput: undefined }], 0).failed, false);
});

function runSuite(args: string[], env: Record<string, string> = {}): { status: number | null; report: { results: Array<{ sdk: string; scenarios: Record<string, string>; throughput?: unknown }> }; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'conf-report-'));
  try {
    const report = join(dir, 'report.json');
    const r = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', 'conformance/main.ts', ...args, '--report', report], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: r.status, report: JSON.parse(readFileSync(report, 'utf8')) as ReturnType<typeof runSuite>['report'], out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('runner end to end: the TypeScript driver passes against a real relay, with a lossless throughput line', () => {
  const { status, report, out } = runSuite(['--sdk', 'ts', '--scenario', 'connect-echo', '--scenario', 'payload-sizes', '--throughput-count', '2000']);
  assert.equal(status, 0, out);
  assert.deepEqual(report.results[0]!.scenarios, { 'connect-echo': 'pass', 'payload-sizes': 'pass' });
  assert.equal((report.results[0]!.throughput as { received: number }).received, 2000);
});

test('runner end to end: broken drivers fail (no delivery, corrupted bytes, lost messages)', () => {
  const driver = 'node conformance/test/fake-driver.mjs';
  const silent = runSuite(['--sdk', 'fake', '--driver', driver, '--scenario', 'connect-echo', '--throughput-count', '0'], { FAKE_MODE: 'silent' });
  assert.equal(silent.status, 1, silent.out);
  assert.equal(silent.report.results[0]!.scenarios['connect-echo'], 'FAIL');
  const corrupt = runSuite(['--sdk', 'fake', '--driver', driver, '--scenario', 'payload-sizes', '--throughput-count', '0'], { FAKE_MODE: 'corrupt' });
  assert.equal(corrupt.status, 1, corrupt.out);
  assert.match(corrupt.out, /payload <1 bytes|payload .* expected/);
  const lossy = runSuite(['--sdk', 'fake', '--driver', driver, '--scenario', 'payload-sizes', '--throughput-count', '100'], { FAKE_MODE: 'lossy' });
  assert.equal(lossy.status, 1, lossy.out);
  assert.equal(lossy.report.results[0]!.scenarios['payload-sizes'], 'pass');
  assert.match(lossy.out, /lost messages: received 99 of 100/);
  // A driver that dies mid-scenario fails that scenario; the next one gets a fresh driver.
  const crash = runSuite(['--sdk', 'fake', '--driver', driver, '--scenario', 'connect-echo', '--scenario', 'wildcards', '--throughput-count', '0'], { FAKE_MODE: 'crash' });
  assert.equal(crash.status, 1, crash.out);
  assert.deepEqual(crash.report.results[0]!.scenarios, { 'connect-echo': 'FAIL', wildcards: 'FAIL' });
  // Both fail at their subscribe (step 3): the second ran on a fresh driver, not on the dead one.
  assert.match(crash.out, /wildcards: step 3 \(subscribe sub\): expected ok, got error \{"code":"driver_exited"/);
});
