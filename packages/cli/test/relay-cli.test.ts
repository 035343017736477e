// `fastpubsub relay` as a real child process, run from sources (tsx, development condition):
// help, loud failures, the one ready line, serving, and a clean exit on SIGTERM.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket, type Socket } from 'node:dgram';
import { cli, exitWithin, killChildren, type Run } from './harness.js';

/** `fastpubsub relay ...args` with the given environment. */
const relayCli = (args: string[], env: Record<string, string> = {}): Run => cli(['relay', ...args], { env });

const TOKEN = 'cli-test-master-token-0123456789';

const dirs: string[] = [];
afterEach(async () => {
  killChildren();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function readyLine(run: Run, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  while (!run.stdout().includes('\n')) {
    if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode}: ${run.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no ready line within ${ms} ms; stderr: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return run.stdout();
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'fps-relay-cli-'));
  dirs.push(d);
  return d;
}

test('--help prints the usage with defaults and exits 0', async () => {
  const run = relayCli(['--help']);
  assert.equal(await exitWithin(run, 15_000), 0);
  assert.match(run.stdout(), /^Usage: fastpubsub relay --listen HOST:PORT --master-token TOKEN/);
  assert.match(run.stdout(), /default 127\.0\.0\.1:7700/);
  assert.match(run.stdout(), /FASTPUBSUB_MASTER_TOKEN/);
  assert.match(run.stdout(), /--quic-listen HOST:PORT/);
  // Every config section is documented with its keys.
  for (const key of ['quic {enabled', 'streamQueueBytes', 'congestion (cubic', 'mesh {caFile', 'seeds', 'deadAfterMs (200)', 'control {urls', 'popId']) {
    assert.ok(run.stdout().includes(key), `help mentions ${key}`);
  }
});

test('an unknown flag fails with exit 2, names the flag and suggests the right one', async () => {
  const run = relayCli(['--listen', '127.0.0.1:0', '--master-tokn', TOKEN]);
  assert.equal(await exitWithin(run, 15_000), 2);
  assert.match(run.stderr(), /unknown option --master-tokn \(did you mean --master-token\?\)/);
  assert.doesNotMatch(run.stderr(), /positional argument/); // not the parser's raw text
  assert.equal(run.stdout(), '');
});

test('a bad --listen and a missing master token fail loudly', async () => {
  const bad = relayCli(['--listen', 'localhost', '--master-token', TOKEN]);
  assert.equal(await exitWithin(bad, 15_000), 2);
  assert.match(bad.stderr(), /--listen must be HOST:PORT/);
  const missing = relayCli(['--listen', '127.0.0.1:0']);
  assert.notEqual(await exitWithin(missing, 15_000), 0);
  assert.match(missing.stderr(), /master token is required/);
});

test('a config file with an unknown key fails with the exact key path', async () => {
  const dir = await tempDir();
  const file = join(dir, 'relay.json');
  await writeFile(file, JSON.stringify({ limits: { maxPayloadByte: 10 }, region: 'EU' }));
  const run = relayCli(['--listen', '127.0.0.1:0', '--master-token', TOKEN, '--config', file]);
  assert.equal(await exitWithin(run, 15_000), 1);
  assert.match(run.stderr(), /limits\.maxPayloadByte: unknown key/);
  const broken = join(dir, 'broken.json');
  await writeFile(broken, '{ "region": ');
  const run2 = relayCli(['--listen', '127.0.0.1:0', '--master-token', TOKEN, '--config', broken]);
  assert.notEqual(await exitWithin(run2, 15_000), 0);
  assert.match(run2.stderr(), /not valid JSON/);
});

test('serves after printing exactly one ready line; SIGTERM exits 0', async () => {
  const dir = await tempDir();
  const file = join(dir, 'relay.json');
  await writeFile(file, JSON.stringify({ region: 'EU', limits: { maxConnections: 5 } }));
  // The master token comes from the environment here.
  const run = relayCli(['--listen', '127.0.0.1:0', '--config', file, '--data-dir', join(dir, 'data'), '--log-level', 'warn'], {
    FASTPUBSUB_MASTER_TOKEN: TOKEN,
  });
  const line = await readyLine(run, 20_000);
  const m = /^fastpubsub relay listening on http:\/\/127\.0\.0\.1:(\d+) \(ws:\/\/127\.0\.0\.1:(\d+)\/ws\), QUIC edge on UDP port \d+\n$/.exec(line);
  assert.ok(m, `ready line: ${JSON.stringify(line)}`);
  assert.equal(m[1], m[2]);
  const base = `http://127.0.0.1:${m[1]}`;
  const ping = await fetch(`${base}/ping`, { signal: AbortSignal.timeout(3000) });
  assert.equal(await ping.text(), 'pong');
  const denied = await fetch(`${base}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(3000),
  });
  assert.equal(denied.status, 401);
  await denied.text();

  run.child.kill('SIGTERM');
  assert.equal(await exitWithin(run, 15_000), 0);
  assert.equal(run.stdout(), line, 'nothing else on stdout');
});

async function freeUdpPort(): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, socket };
}

test('--quic-listen puts the QUIC edge on that port; a taken port is named as the QUIC edge', async () => {
  const dir = await tempDir();
  const held = await freeUdpPort();
  const clash = relayCli(['--listen', '127.0.0.1:0', '--quic-listen', `127.0.0.1:${held.port}`, '--master-token', TOKEN, '--data-dir', join(dir, 'a')]);
  assert.equal(await exitWithin(clash, 20_000), 1);
  assert.match(clash.stderr(), new RegExp(`QUIC edge: cannot listen on UDP 127\\.0\\.0\\.1:${held.port} \\(quic\\.listen, --quic-listen\\)`));
  await new Promise<void>((resolve) => held.socket.close(() => resolve()));

  const free = await freeUdpPort();
  await new Promise<void>((resolve) => free.socket.close(() => resolve()));
  const run = relayCli(['--listen', '127.0.0.1:0', '--quic-listen', `127.0.0.1:${free.port}`, '--master-token', TOKEN, '--data-dir', join(dir, 'b')]);
  const line = await readyLine(run, 20_000);
  assert.match(line, new RegExp(`QUIC edge on UDP port ${free.port}\\n$`));
  const bad = relayCli(['--listen', '127.0.0.1:0', '--quic-listen', 'nope', '--master-token', TOKEN]);
  assert.equal(await exitWithin(bad, 15_000), 2);
  assert.match(bad.stderr(), /--quic-listen must be HOST:PORT/);
  run.child.kill('SIGTERM');
  assert.equal(await exitWithin(run, 15_000), 0);
});
