// `fastpubsub token create|refresh|revoke` as real child processes against a real relay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { connect, ClientError } from '@fastpubsub/client/node';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ENTRY = `import { main } from ${JSON.stringify(MAIN)}; main(process.argv.slice(1)).then((c) => { process.exitCode = c; });`;
const MASTER = 'cli-token-master-token';

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
function cli(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Run {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '--eval', ENTRY, ...args], {
    env: { ...process.env, FASTPUBSUB_URL: '', FASTPUBSUB_TOKEN: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else child.stdin!.end();
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function exitWithin(run: Run, ms = 20_000): Promise<number | null> {
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

let relay: Relay;
let dataDir: string;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fps-cli-'));
  relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER, dataDir, logLevel: 'silent' });
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await relay.close({ graceMs: 0 });
  rmSync(dataDir, { recursive: true, force: true });
});

test('token --help exits 0; usage errors exit 2', async () => {
  const h = cli(['token', '--help']);
  assert.equal(await exitWithin(h), 0);
  assert.match(h.stdout(), /token <create\|refresh\|revoke>/);
  const cases: Array<[string[], RegExp]> = [
    [['token', 'mint'], /unknown subcommand 'mint'/],
    [['token', 'create', '--url', relay.httpUrl, '--tenant', 't1', '--pub', '#'], /missing --master-token/],
    [['token', 'create', '--url', relay.httpUrl, '--master-token', MASTER, '--pub', '#'], /needs --tenant/],
    [['token', 'create', '--url', relay.httpUrl, '--master-token', MASTER, '--tenant', 't1', '--pub', '#', '--ttl', '25h'], /more than 24h/],
    [['token', 'create', '--url', relay.httpUrl, '--master-token', MASTER, '--tenant', 't1', '--pub', '#', '--ttl', 'soon'], /invalid duration/],
    [['token', 'revoke', '--url', relay.httpUrl, '--master-token', MASTER], /revoke needs --token/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args, { env: { FASTPUBSUB_MASTER_TOKEN: '' } });
    assert.equal(await exitWithin(r), 2, args.join(' '));
    assert.match(r.stderr(), re);
  }
});

test('a bad master token exits 1 with the HTTP status', async () => {
  const r = cli(['token', 'create', '--url', relay.httpUrl, '--master-token', 'wrong', '--tenant', 't1', '--pub', '#']);
  assert.equal(await exitWithin(r), 1);
  assert.match(r.stderr(), /401.*check --master-token/);
});

test('create (master token from env) → the token works; refresh → new expiry; revoke → 401', async () => {
  const c = cli(['token', 'create', '--url', relay.httpUrl, '--tenant', 't1', '--pub', 'a.#', '--sub', 'a.#,b', '--ttl', '10m'], { env: { FASTPUBSUB_MASTER_TOKEN: MASTER } });
  assert.equal(await exitWithin(c), 0, c.stderr());
  const token = c.stdout().trim();
  assert.match(token, /^AT_[0-9a-f]+_[0-9a-f]+$/);
  const client = await connect({ endpoint: relay.httpUrl, token });
  const sub = await client.subscribe('t1', 'a.#');
  client.publish('t1', 'a.b', 'ok');
  assert.equal(new TextDecoder().decode((await sub[Symbol.asyncIterator]().next()).value!.payload), 'ok');
  await client.close();

  const before = Date.now();
  const r = cli(['token', 'refresh', '--url', relay.httpUrl, '--master-token', MASTER, '--token', token, '--ttl', '2h', '--json']);
  assert.equal(await exitWithin(r), 0, r.stderr());
  const reply = JSON.parse(r.stdout()) as { message: string; new_expires_at: string };
  assert.ok(Math.abs(Date.parse(reply.new_expires_at) - (before + 2 * 3_600_000)) < 60_000, reply.new_expires_at);

  const v = cli(['token', 'revoke', '--url', relay.httpUrl, '--master-token', MASTER, '--token', token]);
  assert.equal(await exitWithin(v), 0, v.stderr());
  await assert.rejects(connect({ endpoint: relay.httpUrl, token }), (e: unknown) => e instanceof ClientError && e.code === 'unauthorized');
});
