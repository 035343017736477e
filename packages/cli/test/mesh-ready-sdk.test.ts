// subscribe(…, { meshReady: true }) over a real 3-relay mesh (relays as processes behind the
// link emulator, default topology: Tokyo→Frankfurt 220 ms via Singapore): once it resolves at
// Frankfurt, a single publish at Tokyo made right then is delivered, every time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Client, type Message } from '@fastpubsub/client/node';
import { WsClient, issueMeshToken, until, waitPath } from '@fastpubsub/testkit/relay';
import { startDevCluster, type DevCluster } from '../src/commands/dev-cluster.js';

const topology = JSON.parse(readFileSync(new URL('../../../topologies/default.json', import.meta.url), 'utf8')) as unknown;
let c: DevCluster;
let client: Client;
let tokyo: WsClient;

before(async () => {
  c = await startDevCluster(topology, { logLevel: 'warn' });
  await waitPath(c, 'tokyo', 'frankfurt', ['tokyo', 'singapore', 'frankfurt'], 40_000);
  const frankfurt = c.nodes.get('frankfurt')!;
  client = await connect({ endpoint: frankfurt.httpUrl, token: await issueMeshToken(c, 'frankfurt') });
  tokyo = await WsClient.open(c, 'tokyo');
});

after(async () => {
  tokyo?.close();
  await client?.close();
  await c?.stop();
});

test('a publish at Tokyo right after a meshReady subscribe at Frankfurt is delivered (3 of 3), and the wait is about a mesh round trip', async () => {
  for (let i = 0; i < 3; i++) {
    const got: Message[] = [];
    const start = performance.now();
    const sub = await client.subscribe('t1', `m.ready${i}.#`, { meshReady: true, onMessage: (m) => got.push(m) });
    const waitedMs = performance.now() - start;
    tokyo.publish(`m.ready${i}.x`, Buffer.from(`first-${i}`));
    await until(`delivery of first-${i}`, 3000, () => (got.length > 0 ? true : undefined), 10);
    assert.equal(new TextDecoder().decode(got[0]!.payload), `first-${i}`);
    // Frankfurt's interest reaches Tokyo after ~220 ms and Tokyo's acknowledgement returns in as much.
    assert.ok(waitedMs > 200 && waitedMs < 3000, `meshReady subscribe took ${waitedMs.toFixed(0)} ms`);
    await sub.unsubscribe();
  }
});
