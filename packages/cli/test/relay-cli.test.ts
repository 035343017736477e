// `fastpubsub relay` as a real child process, run from sources (tsx, development condition):
// help, loud failures, the one ready line, serving, and a clean exit on SIGTERM.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ENTRY = `import { main } from ${JSON.stringify(MAIN)}; main(process.argv.slice(1)).then((c) => { process.exitCode = c; });`;
const TOKEN = 'cli-test-master-token-0123456789';

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', '--input-type=module', '--eval', ENTRY, 'relay', ...args],
    { env: { ...process.env, FASTPUBSUB_MASTER_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function exitWithin(run: Run, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms; stderr: ${run.stderr()}`)), ms);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

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
  const run = cli(['--help']);
  assert.equal(await exitWithin(run, 15_000), 0);
  assert.match(run.stdout(), /^Usage: fastpubsub relay --listen HOST:PORT --master-token TOKEN/);
  assert.match(run.stdout(), /default 127\.0\.0\.1:7700/);
  assert.match(run.stdout(), /FASTPUBSUB_MASTER_TOKEN/);
});

test('an unknown flag fails with exit 2 and names the flag', async () => {
  const run = cli(['--listen', '127.0.0.1:0', '--master-tokn', TOKEN]);
  assert.equal(await exitWithin(run, 15_000), 2);
  assert.match(run.stderr(), /Unknown option '--master-tokn'/);
  assert.equal(run.stdout(), '');
});

test('a bad --listen and a missing master token fail loudly', async () => {
  const bad = cli(['--listen', 'localhost', '--master-token', TOKEN]);
  assert.equal(await exitWithin(bad, 15_000), 2);
  assert.match(bad.stderr(), /--listen must be HOST:PORT/);
  const missing = cli(['--listen', '127.0.0.1:0']);
  assert.notEqual(await exitWithin(missing, 15_000), 0);
  assert.match(missing.stderr(), /master token is required/);
});

test('a config file with an unknown key fails with the exact key path', async () => {
  const dir = await tempDir();
  const file = join(dir, 'relay.json');
  await writeFile(file, JSON.stringify({ limits: { maxPayloadByte: 10 }, region: 'EU' }));
  const run = cli(['--listen', '127.0.0.1:0', '--master-token', TOKEN, '--config', file]);
  assert.equal(await exitWithin(run, 15_000), 1);
  assert.match(run.stderr(), /limits\.maxPayloadByte: unknown key/);
  const broken = join(dir, 'broken.json');
  await writeFile(broken, '{ "region": ');
  const run2 = cli(['--listen', '127.0.0.1:0', '--master-token', TOKEN, '--config', broken]);
  assert.notEqual(await exitWithin(run2, 15_000), 0);
  assert.match(run2.stderr(), /not valid JSON/);
});

test('serves after printing exactly one ready line; SIGTERM exits 0', async () => {
  const dir = await tempDir();
  const file = join(dir, 'relay.json');
  await writeFile(file, JSON.stringify({ region: 'EU', limits: { maxConnections: 5 } }));
  // The master token comes from the environment here.
  const run = cli(['--listen', '127.0.0.1:0', '--config', file, '--data-dir', join(dir, 'data'), '--log-level', 'warn'], {
    FASTPUBSUB_MASTER_TOKEN: TOKEN,
  });
  const line = await readyLine(run, 20_000);
  const m = /^fastpubsub relay listening on http:\/\/127\.0\.0\.1:(\d+) \(ws:\/\/127\.0\.0\.1:(\d+)\/ws\)\n$/.exec(line);
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
