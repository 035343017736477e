// `fastpubsub token create|refresh|revoke` as real child processes against a real relay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { connect, ClientError, type Message } from '@fastpubsub/client/node';
import { cli, exitWithin, killChildren } from './harness.js';

const MASTER = 'cli-token-master-token-0123456789abc';

let relay: Relay;
let dataDir: string;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fps-cli-'));
  relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER, dataDir, logLevel: 'silent' });
});
after(async () => {
  killChildren();
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
  assert.equal(new TextDecoder().decode(((await sub[Symbol.asyncIterator]().next()).value as Message).payload), 'ok');
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
