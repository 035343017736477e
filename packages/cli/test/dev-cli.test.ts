// `fastpubsub mesh init` and `fastpubsub dev` as real child processes: certificates on disk;
// a two-relay mesh from a topology file with its endpoints, master token and a working routes
// API; Ctrl-C (SIGINT) stops every relay process and exits 0.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { cli, exitWithin, killChildren, type Run } from './harness.js';

const dirs: string[] = [];
const pids: number[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

after(async () => {
  killChildren();
  for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('mesh init writes a CA and one certificate + key per relay; bad ids fail', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-init-'));
  dirs.push(dir);
  const run = cli(['mesh', 'init', '--out', dir, '--relays', 'tokyo,frankfurt']);
  assert.equal(await exitWithin(run), 0, run.stderr());
  assert.deepEqual((await readdir(dir)).sort(), ['ca.key', 'ca.pem', 'frankfurt.key', 'frankfurt.pem', 'tokyo.key', 'tokyo.pem']);
  const bad = cli(['mesh', 'init', '--out', dir, '--relays', 'no spaces']);
  assert.equal(await exitWithin(bad), 1);
  assert.match(bad.stderr(), /relay id/);
  assert.equal(await exitWithin(cli(['mesh', 'init', '--out', dir])), 2);
});

test('dev starts the relays of a topology, prints endpoints and a master token, and stops them on SIGINT', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dev-cli-'));
  dirs.push(dir);
  const file = join(dir, 'two.json');
  await writeFile(file, JSON.stringify({ nodes: [{ id: 'x' }, { id: 'y' }], links: [{ a: 'x', b: 'y', delayMs: 5 }] }));
  const run = cli(['dev', '--topology', file]);
  const deadline = Date.now() + 30_000;
  while (!run.stdout().includes('Ctrl-C stops everything')) {
    if (run.child.exitCode !== null) assert.fail(`dev exited ${run.child.exitCode}: ${run.stderr()}`);
    if (Date.now() > deadline) assert.fail(`dev not ready: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const out = run.stdout();
  for (const m of out.matchAll(/pid (\d+)/g)) pids.push(Number(m[1]));
  assert.equal(pids.length, 2, out);
  // The control plane runs by default, with a ready tenant and its master token.
  assert.match(out, /control plane: http:\/\/127\.0\.0\.1:\d+/);
  assert.match(out, /tenant:\s+demo\s+master token MT_[0-9a-f]+_[0-9a-f]+/);
  const http = /x\s+http (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  assert.ok(http !== undefined, out);
  let routes: { routes: { dest: string }[] } = { routes: [] };
  while (routes.routes.length === 0 && Date.now() < deadline) {
    routes = (await (await fetch(`${http}/v1/mesh/routes`)).json()) as typeof routes;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(routes.routes.map((r) => r.dest), ['y']);
  run.child.kill('SIGINT');
  assert.equal(await exitWithin(run, 15_000), 0, run.stderr());
  for (const p of pids) assert.equal(alive(p), false, `relay process ${p} still running`);
});

async function startDev(args: string[], nodes: string[]): Promise<{ run: Run; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'dev-cli-'));
  dirs.push(dir);
  const file = join(dir, 'topology.json');
  const links = nodes.slice(1).map((b, i) => ({ a: nodes[i]!, b, delayMs: 5 }));
  await writeFile(file, JSON.stringify({ nodes: nodes.map((id) => ({ id })), links }));
  const run = cli(['dev', '--topology', file, ...args]);
  const deadline = Date.now() + 30_000;
  while (!run.stdout().includes('Ctrl-C stops everything')) {
    if (run.child.exitCode !== null) assert.fail(`dev exited ${run.child.exitCode}: ${run.stderr()}`);
    if (Date.now() > deadline) assert.fail(`dev not ready: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const out = run.stdout();
  for (const m of out.matchAll(/pid (\d+)/g)) pids.push(Number(m[1]));
  return { run, out };
}

/** The argv a shell builds for a printed `npx fastpubsub …` line, after running the printed token lines. */
async function shellArgv(tokenLines: string[], commandLine: string): Promise<string[]> {
  const args = commandLine.replace(/^\s*npx fastpubsub /, '').replace(/ &$/, '');
  const script = `set -e\n${tokenLines.join('\n')}\nprintf '%s\\0' ${args}`;
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { timeout: 15_000 });
  return stdout.split('\0').slice(0, -1);
}

test('dev --no-control prints try-it commands that work as printed (each token minted where it is used)', async () => {
  const { run, out } = await startDev(['--no-control'], ['p', 'q']);
  const lines = out.split('\n');
  const tokenLines = lines.filter((l) => /^\s+\w+_AT=\$\(curl /.test(l));
  assert.equal(tokenLines.length, 2, out);
  const subLine = lines.find((l) => l.trim().startsWith('npx fastpubsub sub '));
  const pubLine = lines.find((l) => l.trim().startsWith('npx fastpubsub pub '));
  assert.ok(subLine !== undefined && pubLine !== undefined, out);
  const subArgv = await shellArgv(tokenLines, subLine);
  const pubArgv = await shellArgv(tokenLines, pubLine);
  assert.match(subArgv[4] ?? '', /^AT_/, `sub token minted: ${subArgv.join(' ')}`);
  assert.notEqual(subArgv[2], pubArgv[2], 'subscriber and publisher use different relays');
  const sub = cli([...subArgv, '--count', '1']);
  const ready = Date.now() + 20_000;
  while (!sub.stderr().includes('subscribed')) {
    if (sub.child.exitCode !== null || Date.now() > ready) assert.fail(`sub: ${sub.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // The mesh needs a moment to learn the subscriber's interest: publish until it arrives.
  let published = 0;
  while (sub.child.exitCode === null && published < 40) {
    const pub = cli(pubArgv);
    assert.equal(await exitWithin(pub), 0, pub.stderr());
    published++;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(await exitWithin(sub), 0, sub.stderr());
  assert.equal(sub.stdout(), 'chat.room1 hello\n');
  run.child.kill('SIGINT');
  assert.equal(await exitWithin(run, 15_000), 0, run.stderr());
});

test('dev prints every port of every relay, the emulated link ports and each QUIC CA file', async () => {
  const { run, out } = await startDev([], ['p', 'q']);
  for (const id of ['p', 'q']) {
    const line = new RegExp(`${id}\\s+http http://127\\.0\\.0\\.1:\\d+\\s+ws ws://127\\.0\\.0\\.1:\\d+/ws\\s+quic 127\\.0\\.0\\.1:\\d+ \\(udp\\)\\s+mesh 127\\.0\\.0\\.1:\\d+ \\(udp\\)`);
    assert.match(out, line);
  }
  const cas = [...out.matchAll(/quic CA (\S+)/g)].map((m) => m[1]!);
  assert.equal(cas.length, 2, out);
  for (const ca of cas) assert.ok(existsSync(ca), `${ca} exists`);
  assert.match(out, /p <-> q\s+5 ms\s+\(udp 127\.0\.0\.1:\d+ \/ 127\.0\.0\.1:\d+\)/);
  run.child.kill('SIGINT');
  assert.equal(await exitWithin(run, 15_000), 0, run.stderr());
});
