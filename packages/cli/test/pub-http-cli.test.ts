// `fastpubsub pub --http` as a real child process: the message goes over HTTPS publish and a
// WebSocket subscriber (the SDK) receives it; a repeated --idempotency-key publishes once; a bad
// token exits 1. The SDK's publishHttp/publishHttpBatch are exercised directly too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { connect, createToken, isClientError, publishHttp, publishHttpBatch, type Client, type Message } from '@fastpubsub/client/node';
import { cli, exitWithin, killChildren } from './harness.js';

const MASTER = 'cli-pub-http-master-token-0123456789';

let relay: Relay;
let dataDir: string;
let token: string;
let client: Client;
const got: Message[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fps-cli-http-'));
  relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER, dataDir, logLevel: 'silent', quic: { enabled: false } });
  token = await createToken(
    { grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['h.#'], allow_channels_sub: ['h.#'] }], expiresAt: Date.now() + 3_600_000, createdBy: 'cli-tests' },
    { url: relay.httpUrl, masterToken: MASTER },
  );
  client = await connect({ endpoint: relay.httpUrl, token, ping: false });
  const sub = await client.subscribe('t1', 'h.#');
  void (async () => {
    for await (const m of sub) got.push(m);
  })();
});

after(async () => {
  killChildren();
  await client?.close();
  await relay?.close({ graceMs: 0 });
  rmSync(dataDir, { recursive: true, force: true });
});

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const text = (m: Message): string => Buffer.from(m.payload).toString('utf8');

test('pub --http publishes over HTTPS; the same --idempotency-key twice arrives once', async () => {
  const p = cli(['pub', '--http', '--url', relay.httpUrl, '--token', token, '--count', '2', 't1', 'h.cli', 'via-http']);
  assert.equal(await exitWithin(p), 0, p.stderr());
  await until(() => got.filter((m) => text(m) === 'via-http').length === 2, 5000, 'two deliveries');
  for (let i = 0; i < 2; i++) {
    const r = cli(['pub', '--http', '--idempotency-key', 'cli-once', '--url', relay.httpUrl, '--token', token, 't1', 'h.cli', 'keyed']);
    assert.equal(await exitWithin(r), 0, r.stderr());
    assert.match(r.stderr(), /accepted, id [0-9a-f]{32}/);
  }
  await publishHttp('t1', 'h.cli', 'barrier', { url: relay.httpUrl, token });
  await until(() => got.some((m) => text(m) === 'barrier'), 5000, 'barrier');
  assert.equal(got.filter((m) => text(m) === 'keyed').length, 1);
});

test('pub --http with a bad token exits 1; --idempotency-key without --http is a usage error', async () => {
  const bad = cli(['pub', '--http', '--url', relay.httpUrl, '--token', 'AT_00_11', 't1', 'h.x', 'x']);
  assert.equal(await exitWithin(bad), 1);
  assert.match(bad.stderr(), /401.*check --token/);
  const usage = cli(['pub', '--idempotency-key', 'k', '--url', relay.httpUrl, '--token', token, 't1', 'h.x', 'x']);
  assert.equal(await exitWithin(usage), 2);
  assert.match(usage.stderr(), /--idempotency-key needs --http/);
});

test('SDK: publishHttpBatch answers per item; errors are typed ClientErrors', async () => {
  const results = await publishHttpBatch(
    [
      { tenant: 't1', channel: 'h.b1', payload: new Uint8Array([1, 2, 3]) },
      { tenant: 't1', channel: 'nope.x', payload: 'denied' },
    ],
    { url: relay.httpUrl, token },
  );
  assert.equal(results[0]!.status, 202);
  assert.equal(results[1]!.status, 403);
  await until(() => got.some((m) => m.channel === 'h.b1'), 5000, 'batch item');
  assert.deepEqual([...got.find((m) => m.channel === 'h.b1')!.payload], [1, 2, 3]);
  await assert.rejects(publishHttp('t1', 'nope.x', 'x', { url: relay.httpUrl, token }), (e: unknown) => isClientError(e) && e.code === 'forbidden' && e.status === 403);
  await assert.rejects(publishHttp('t1', 'h.x', new Uint8Array(70_000), { url: relay.httpUrl, token }), (e: unknown) => isClientError(e) && e.code === 'http' && e.status === 413);
});
