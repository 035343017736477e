// A relay configured with a control plane that is not up yet (first boot, no cached state) must
// still start serving after its bounded wait for the first snapshot, and keep running: the
// control plane may come later. (It used to exit 0 silently: nothing held the event loop.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, killChildren } from './harness.js';

let dir = '';
after(async () => {
  killChildren();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('a relay whose control plane is down at first start serves anyway and stays up', { timeout: 60_000 }, async () => {
  dir = await mkdtemp(join(tmpdir(), 'fps-relay-control-down-'));
  const config = join(dir, 'relay.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir: join(dir, 'data'),
      logLevel: 'silent',
      control: { urls: [`http://127.0.0.1:${await closedPort()}`], token: 'pop-token-0123456789abcdef-0123456789ab' },
    }),
    { mode: 0o600 },
  );
  const run = cli(['relay', '--config', config], { env: { FASTPUBSUB_MASTER_TOKEN: 'master-token-0123456789abcdef-0123456789' } });
  let exitCode: number | null | undefined;
  void run.exited.then((c) => (exitCode = c));
  const deadline = Date.now() + 30_000;
  while (!/relay listening on http:\/\/127\.0\.0\.1:(\d+)/.test(run.stdout())) {
    assert.equal(exitCode, undefined, `the relay exited (${String(exitCode)}) before serving: ${run.stderr()}`);
    assert.ok(Date.now() < deadline, `no ready line: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(run.stdout())?.[1]);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/ping`)).text(), 'pong');
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(exitCode, undefined, 'the relay keeps running while the control plane is away');
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0);
});
