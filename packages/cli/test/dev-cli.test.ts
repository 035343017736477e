// `fastpubsub mesh init` and `fastpubsub dev` as real child processes: certificates on disk;
// a two-relay mesh from a topology file with its endpoints, master token and a working routes
// API; Ctrl-C (SIGINT) stops every relay process and exits 0.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, exitWithin, killChildren } from './harness.js';

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
