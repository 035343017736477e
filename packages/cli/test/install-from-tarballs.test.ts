// The packages install outside this repository: `npm run pack` writes the tarballs, plain
// `npm install <tarballs>` installs them into an empty folder (registry dependencies from the
// npm cache when it has them), and from there `npx fastpubsub relay` serves, `npx fastpubsub
// token create` mints a token (the relay is started through node_modules/.bin, which is what npx runs), the README's Node example runs as written with plain `node`,
// a TypeScript program type-checks against the installed declarations, and `fastpubsub dev`
// starts its default three-relay mesh.
// Packs the dist/ folders as built (`npm ci` builds them; run `npm run build` after edits).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MASTER = 'tarball-install-master-token-0123456789';
const exec = promisify(execFile);
const dirs: string[] = [];
let relay: ChildProcess | undefined;

after(async () => {
  if (relay !== undefined && relay.exitCode === null) relay.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function readmeNodeExample(readme: string): string {
  const m = /<!-- example:node -->\s*```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m !== null, 'README has a Node example');
  return m[1]!;
}

test('npm run pack tarballs install into an empty folder and run the README example against npx fastpubsub relay', { timeout: 300_000 }, async () => {
  const packs = await mkdtemp(join(tmpdir(), 'fps-packs-'));
  const app = await mkdtemp(join(tmpdir(), 'fps-app-'));
  dirs.push(packs, app);
  await exec(process.execPath, [join(ROOT, 'scripts/pack.mjs'), '--no-build', '--out', packs], { cwd: ROOT, timeout: 120_000 });
  const tarballs = (await readdir(packs)).filter((f) => f.endsWith('.tgz')).map((f) => join(packs, f));
  for (const name of ['client', 'cli', 'relay', 'control', 'quic']) {
    assert.ok(tarballs.some((t) => t.endsWith(`fastpubsub-${name}-0.1.0.tgz`)), `${name} packed`);
  }

  // A plain install, outside the workspace, with nothing but the tarballs and the npm cache.
  await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], { cwd: app, timeout: 180_000 });
  const licence = await readFile(join(app, 'node_modules/@fastpubsub/client/LICENSE'), 'utf8');
  assert.match(licence, /Apache License\s+Version 2\.0/);

  // The binary `npx fastpubsub` runs, started directly so that SIGTERM reaches the relay itself.
  relay = spawn(join(app, 'node_modules/.bin/fastpubsub'), ['relay', '--listen', '127.0.0.1:0', '--master-token', MASTER, '--data-dir', join(app, 'data'), '--log-level', 'warn'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  relay.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  relay.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const deadline = Date.now() + 30_000;
  while (!out.includes('\n')) {
    if (relay.exitCode !== null || Date.now() > deadline) assert.fail(`relay not ready: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  assert.ok(url !== undefined, out);

  const { stdout: token } = await exec('npx', ['fastpubsub', 'token', 'create', '--url', url, '--master-token', MASTER, '--tenant', 'demo', '--pub', 'chat.#', '--sub', 'chat.#'], { cwd: app, timeout: 30_000 });
  assert.match(token.trim(), /^AT_[0-9a-f]+_[0-9a-f]+$/);

  await writeFile(join(app, 'example.mjs'), readmeNodeExample(await readFile(join(ROOT, 'README.md'), 'utf8')));
  const run = await exec(process.execPath, ['example.mjs'], { cwd: app, timeout: 30_000, env: { ...process.env, FASTPUBSUB_URL: url, FASTPUBSUB_TOKEN: token.trim() } });
  assert.equal(run.stdout, 'chat.room1 hello\n');

  // The declarations resolve through `exports` for a TypeScript app (NodeNext resolution).
  await writeFile(
    join(app, 'typed.ts'),
    "import { connect, isClientError, type Message } from '@fastpubsub/client/node';\n" +
      "import { startRelay } from '@fastpubsub/relay';\n" +
      "const c = await connect({ endpoint: 'http://127.0.0.1:1', token: 'AT_x' });\n" +
      "const handle = (m: Message): string => m.channel;\n" +
      'void handle; void isClientError; void startRelay; await c.close();\n',
  );
  await writeFile(join(app, 'package.json'), JSON.stringify({ ...JSON.parse(await readFile(join(app, 'package.json'), 'utf8')), type: 'module' }));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const types = join(ROOT, 'node_modules/@types');
  await exec(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--typeRoots', types, '--types', 'node', 'typed.ts'], { cwd: app, timeout: 60_000 }).catch((e: Error & { stdout?: string }) => {
    assert.fail(`tsc: ${e.stdout ?? e.message}`);
  });

  relay.kill('SIGTERM');
  await new Promise((r) => relay!.once('exit', r));

  // `fastpubsub dev` finds its default topology inside the installed package.
  const dev = spawn(join(app, 'node_modules/.bin/fastpubsub'), ['dev', '--no-control'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  let devOut = '';
  let devErr = '';
  dev.stdout.setEncoding('utf8').on('data', (s: string) => (devOut += s));
  dev.stderr.setEncoding('utf8').on('data', (s: string) => (devErr += s));
  try {
    const devDeadline = Date.now() + 60_000;
    while (!devOut.includes('Ctrl-C stops everything')) {
      if (dev.exitCode !== null || Date.now() > devDeadline) assert.fail(`dev not ready: ${devErr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(devOut, /3 relays up/);
    for (const id of ['tokyo', 'singapore', 'frankfurt']) assert.match(devOut, new RegExp(`${id}\\s+http http://127\\.0\\.0\\.1:\\d+`));
    dev.kill('SIGINT');
    const code = await new Promise<number | null>((r) => dev.once('exit', r));
    assert.equal(code, 0, devErr);
  } finally {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  }
});
