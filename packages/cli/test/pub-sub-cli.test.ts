// `fastpubsub pub` and `fastpubsub sub` as real child processes against a real relay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { createToken, revokeToken } from '@fastpubsub/client/node';
import { cli, exitWithin, killChildren } from './harness.js';

const MASTER = 'cli-pubsub-master-token-0123456789abcdef';

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let relay: Relay;
let dataDir: string;
let token: string;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fps-cli-'));
  relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER, dataDir, logLevel: 'silent' });
  token = await createToken(
    { grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }], expiresAt: Date.now() + 3_600_000, createdBy: 'cli-tests' },
    { url: relay.httpUrl, masterToken: MASTER },
  );
});
after(async () => {
  killChildren();
  await relay.close({ graceMs: 0 });
  rmSync(dataDir, { recursive: true, force: true });
});

test('pub --help and sub --help print usage and exit 0', async () => {
  for (const name of ['pub', 'sub']) {
    const r = cli([name, '--help']);
    assert.equal(await exitWithin(r), 0);
    assert.match(r.stdout(), new RegExp(`Usage: fastpubsub ${name}`));
  }
});

test('usage errors exit 2 with a clear message', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['pub', 't1', 'a', 'x'], /missing --url/],
    [['pub', '--url', relay.httpUrl, 't1', 'a', 'x'], /missing --token/],
    [['pub', '--url', relay.httpUrl, '--token', token, 't1', 'a'], /expected TENANT CHANNEL MESSAGE/],
    [['pub', '--url', relay.httpUrl, '--token', token, '--count', '0', 't1', 'a', 'x'], /--count must be a positive integer/],
    [['pub', '--url', relay.httpUrl, '--token', token, '--bogus', 't1', 'a', 'x'], /unknown option --bogus\n/],
    [['pub', '--url', relay.httpUrl, '--tokn', token, 't1', 'a', 'x'], /unknown option --tokn \(did you mean --token\?\)/],
    [['sub', '--url', relay.httpUrl, '--token', token, 't1'], /expected TENANT PATTERN/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(await exitWithin(r), 2, args.join(' '));
    assert.match(r.stderr(), re);
  }
});

test('a bad token exits 1 and says so', async () => {
  const r = cli(['pub', '--url', relay.httpUrl, '--token', 'AT_00_11', 't1', 'a', 'x']);
  assert.equal(await exitWithin(r), 1);
  assert.match(r.stderr(), /401.*check --token/);
});

test('sub --json --count receives what pub sends (count, stdin lines), then exits 0', async () => {
  const s = cli(['sub', '--url', relay.httpUrl, '--token', token, '--json', '--count', '5', 't1', 'room.#']);
  await until(() => s.stderr().includes('subscribed to t1:room.#'), 15_000, 'sub ready');
  const p1 = cli(['pub', '--url', relay.httpUrl, '--token', token, '--count', '3', 't1', 'room.1', 'hi']);
  assert.equal(await exitWithin(p1), 0, p1.stderr());
  assert.match(p1.stderr(), /published 3 messages to t1:room\.1/);
  const p2 = cli(['pub', '--url', relay.httpUrl, '--token', token, 't1', 'room.2', '-'], { stdin: 'line one\nline two\n' });
  assert.equal(await exitWithin(p2), 0, p2.stderr());
  assert.equal(await exitWithin(s), 0, s.stderr());
  const lines = s.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  assert.deepEqual(lines, [
    { tenant: 't1', channel: 'room.1', pattern: 'room.#', payload: 'hi' },
    { tenant: 't1', channel: 'room.1', pattern: 'room.#', payload: 'hi' },
    { tenant: 't1', channel: 'room.1', pattern: 'room.#', payload: 'hi' },
    { tenant: 't1', channel: 'room.2', pattern: 'room.#', payload: 'line one' },
    { tenant: 't1', channel: 'room.2', pattern: 'room.#', payload: 'line two' },
  ]);
  assert.match(s.stderr(), /received 5 messages/);
});

test('sub prints text lines; pub --rate paces a longer run with progress; SIGINT ends sub with exit 0', async () => {
  const s = cli(['sub', '--url', relay.httpUrl, '--token', token, 't1', 'fast.*'], { env: { FASTPUBSUB_URL: '', FASTPUBSUB_TOKEN: '' } });
  await until(() => s.stderr().includes('subscribed'), 15_000, 'sub ready');
  const start = Date.now();
  const p = cli(['pub', '--rate', '200', '--count', '300', 't1', 'fast.x', 'tick'], { env: { FASTPUBSUB_URL: relay.httpUrl, FASTPUBSUB_TOKEN: token } });
  assert.equal(await exitWithin(p), 0, p.stderr());
  assert.ok(Date.now() - start >= 1400, 'paced at 200 msg/s');
  assert.match(p.stderr(), /pub: \d+\/300 published/); // progress line
  assert.match(p.stderr(), /published 300 messages/);
  await until(() => s.stdout().split('\n').filter((l) => l === 'fast.x tick').length === 300, 5000, '300 lines');
  s.child.kill('SIGINT');
  assert.equal(await exitWithin(s), 0);
  assert.match(s.stderr(), /received 300 messages/);
});

test('pub exits 1 and names the refusal when the relay denies the publish', async () => {
  const narrow = await createToken(
    { grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['allowed.#'], allow_channels_sub: [] }], expiresAt: Date.now() + 3_600_000, createdBy: 'cli-tests' },
    { url: relay.httpUrl, masterToken: MASTER },
  );
  const denied = cli(['pub', '--url', relay.httpUrl, '--token', narrow, 't1', 'secret.x', 'hi']);
  assert.equal(await exitWithin(denied), 1, denied.stderr());
  assert.match(denied.stderr(), /refused the publish: permission_denied/);
  assert.doesNotMatch(denied.stderr(), /published 1 message/);
  const allowed = cli(['pub', '--url', relay.httpUrl, '--token', narrow, 't1', 'allowed.x', 'hi']);
  assert.equal(await exitWithin(allowed), 0, allowed.stderr());
  assert.match(allowed.stderr(), /published 1 message to t1:allowed\.x/);
});

test('sub stops with exit 1 and says why when its token is revoked', async () => {
  const doomed = await createToken(
    { grants: [{ tenant_ids: ['t1'], allow_channels_pub: [], allow_channels_sub: ['#'] }], expiresAt: Date.now() + 3_600_000, createdBy: 'cli-tests' },
    { url: relay.httpUrl, masterToken: MASTER },
  );
  const s = cli(['sub', '--url', relay.httpUrl, '--token', doomed, 't1', 'gone.#']);
  await until(() => s.stderr().includes('subscribed to t1:gone.#'), 15_000, 'sub ready');
  await revokeToken({ token: doomed }, { url: relay.httpUrl, masterToken: MASTER });
  assert.equal(await exitWithin(s, 15_000), 1, s.stderr());
  assert.match(s.stderr(), /no longer accepts the token .*revoked or has expired/);
});
