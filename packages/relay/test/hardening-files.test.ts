// Secrets at rest: the relay creates its token store and generated keys private (0700
// directories, 0600 files) and refuses to start on a store or key that other users can read.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFpsError } from '@fastpubsub/core';
import { startRelay } from '../src/index.js';
import { MASTER_TOKEN } from '@fastpubsub/testkit/relay';

const root = await mkdtemp(join(tmpdir(), 'fps-files-'));
after(() => rm(root, { recursive: true, force: true }));

const modeOf = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;
const start = (dataDir: string): ReturnType<typeof startRelay> =>
  startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER_TOKEN, dataDir, logLevel: 'silent' });

async function refused(dataDir: string, what: RegExp): Promise<void> {
  await assert.rejects(start(dataDir), (err: unknown) => {
    assert.ok(isFpsError(err), String(err));
    assert.equal(err.code, 'config_invalid');
    assert.match(err.message, what);
    assert.match(err.message, /accessible to other users .* chmod/);
    return true;
  });
}

test('the token store and the generated QUIC key are created private', async () => {
  const dataDir = join(root, 'fresh', 'relay');
  const relay = await start(dataDir);
  await relay.close({ graceMs: 0 });
  assert.equal(await modeOf(dataDir), 0o700);
  const files = await readdir(dataDir);
  const store = files.find((f) => f.endsWith('.log') || f.endsWith('.jsonl'));
  assert.ok(store !== undefined, `a store file in ${files.join(', ')}`);
  assert.equal(await modeOf(join(dataDir, store)), 0o600);
  assert.equal(await modeOf(join(dataDir, 'quic')), 0o700);
  assert.equal(await modeOf(join(dataDir, 'quic', 'key.pem')), 0o600);
});

test('a store directory, store file or key readable by others is refused at start-up', async () => {
  const dataDir = join(root, 'loose', 'relay');
  await (await start(dataDir)).close({ graceMs: 0 });
  const store = (await readdir(dataDir)).find((f) => f.endsWith('.log') || f.endsWith('.jsonl')) as string;

  await chmod(dataDir, 0o755);
  await refused(dataDir, /store directory/);
  await chmod(dataDir, 0o700);

  await chmod(join(dataDir, store), 0o644);
  await refused(dataDir, /store file/);
  await chmod(join(dataDir, store), 0o600);

  await chmod(join(dataDir, 'quic', 'key.pem'), 0o640);
  await refused(dataDir, /QUIC private key/);
  await chmod(join(dataDir, 'quic', 'key.pem'), 0o600);

  await (await start(dataDir)).close({ graceMs: 0 });
});
