// `fastpubsub bridge --config FILE` against a real redis-server: a Redis message reaches a
// WebSocket subscriber of the bridge process; a config without bridges is refused.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectWs, decodeDelivery, freePort } from '@fastpubsub/testkit/relay';
import { cli, exitWithin, killChildren } from './harness.js';

const MT = 'bridge-cli-master-token-0123456789abcdef';
const dirs: string[] = [];
after(async () => {
  killChildren();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Sends one RESP command to Redis and resolves with the first reply line. */
function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(port, '127.0.0.1');
    s.on('error', reject);
    s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().split('\r\n')[0] ?? '');
    });
  });
}

test('fastpubsub bridge carries Redis → WebSocket; a config without bridges exits 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fps-bridge-cli-'));
  dirs.push(dir);
  const redisPort = await freePort();
  const httpPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  after(() => {
    redis.kill('SIGKILL');
  });
  const config = join(dir, 'bridge.json');
  await writeFile(config, JSON.stringify({
    listen: { host: '127.0.0.1', port: httpPort },
    masterToken: MT,
    dataDir: join(dir, 'data'),
    logLevel: 'warn',
    quic: { enabled: false },
    bridges: [{ id: 'cli-redis', url: `redis://127.0.0.1:${redisPort}`, tenant: 't1', mappings: [{ external: 'ext.*', channel: 'ext.#', direction: 'in' }], reconnectMinMs: 50 }],
  }));
  const run = cli(['bridge', '--config', config]);
  const end = Date.now() + 20_000;
  while (!run.stdout().includes('fastpubsub bridge running')) {
    if (Date.now() > end) assert.fail(`not ready: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const res = await fetch(`http://127.0.0.1:${httpPort}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ right: { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['ext.#'], allow_channels_sub: ['ext.#'] }], allow_ip_masks: [], allow_regions: [], allowed_ws_origin: [], expires_at: new Date(Date.now() + 600_000).toISOString() }, created_by: 'bridge-cli-test' }),
  });
  const { token } = (await res.json()) as { token: string };
  const ws = await connectWs(`ws://127.0.0.1:${httpPort}/ws`, token);
  ws.ws.send('SUB:t1:ext.#');
  assert.equal(await ws.nextText(3000), 'OK:SUB:t1:ext.#');
  const got: string[] = [];
  ws.ws.on('message', (data: Buffer, binary: boolean) => {
    if (!binary) return;
    const d = decodeDelivery(data);
    got.push(`${d.channel} ${Buffer.from(d.payload).toString()}`);
  });
  // Until the bridge's Redis subscription is in place, PUBLISH reaches 0 receivers: retry (bounded).
  const until = Date.now() + 10_000;
  while (got.length === 0 && Date.now() < until) {
    await redisCommand(redisPort, 'PUBLISH', 'ext.valve', 'closed').catch(() => '');
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(got[0], 'ext.valve closed');
  await ws.close();
  run.child.kill('SIGTERM');
  assert.equal(await exitWithin(run), 0);

  const empty = join(dir, 'empty.json');
  await writeFile(empty, JSON.stringify({ masterToken: MT, bridges: [] }));
  const refused = cli(['bridge', '--config', empty]);
  assert.equal(await exitWithin(refused), 2);
  assert.match(refused.stderr(), /"bridges" is empty/);
});
