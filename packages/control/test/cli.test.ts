// `fastpubsub control` as a child process: help, bad flags, the ready line, serving, SIGTERM exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from '@fastpubsub/testkit/relay';

const RUN = `import('@fastpubsub/control/cli').then(async (m) => process.exit(await m.command.run(process.argv.slice(1))))`;
const nodeArgs = ['--conditions=development', '--import', 'tsx', '-e', RUN, '--'];

test('help exits 0, bad flags exit 2, bad config exits 1', () => {
  const help = spawnSync(process.execPath, [...nodeArgs, '--help'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: fastpubsub control/);
  const bad = spawnSync(process.execPath, [...nodeArgs, '--nope'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(bad.status, 2);
  const noToken = spawnSync(process.execPath, [...nodeArgs, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, FASTPUBSUB_OPERATOR_TOKEN: '' } });
  assert.equal(noToken.status, 1);
  assert.match(noToken.stderr, /operatorToken/);
});

test('serves until SIGTERM, then exits 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fps-control-cli-'));
  const child = spawn(process.execPath, [...nodeArgs, '--listen', '127.0.0.1:0', '--operator-token', 'op-secret-1-0123456789abcdefghijklmn', '--data-dir', dir, '--log-level', 'silent'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m !== null) {
          clearTimeout(t);
          resolve(m[1] as string);
        }
      });
    });
    assert.equal((await http(url, 'GET', '/ping', { bearer: null })).text, 'pong');
    assert.equal((await http(url, 'POST', '/v1/tenants', { bearer: 'op-secret-1-0123456789abcdefghijklmn', body: { id: 'x' } })).status, 201);
    const code = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    child.kill('SIGTERM');
    assert.equal(await code, 0);
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
