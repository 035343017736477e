// Node-disjoint redundant delivery, relays as processes behind the link emulator (default
// topology): with `redundantChannels` covering the channel, SIGKILL of the relay on the primary
// path (Singapore) at 1000 msg/s loses nothing and duplicates nothing at the Frankfurt subscriber.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { DevCluster } from '@fastpubsub/cli';
import { WsClient, cluster, seqOf, sleep, stamp, until, waitPath } from './mesh-helpers.js';

const topology = JSON.parse(readFileSync(new URL('../../../topologies/default.json', import.meta.url), 'utf8')) as unknown;
let c: DevCluster;

before(async () => {
  c = await cluster(topology, { mesh: { redundantChannels: ['m.safe.#'] } });
});

after(async () => {
  await c?.stop();
});

test('killing the middle relay loses no message of a redundant channel (1000 msg/s), and none arrives twice', async () => {
  const sub = await WsClient.open(c, 'frankfurt');
  const pub = await WsClient.open(c, 'tokyo');
  try {
    await sub.subscribe('m.safe.#');
    await waitPath(c, 'tokyo', 'frankfurt', ['tokyo', 'singapore', 'frankfurt'], 60_000);
    await until('the subscription known at Tokyo', 10_000, async () => {
      pub.publish('m.safe.warm', stamp(0));
      await sleep(400);
      return sub.received.length > 0 ? true : undefined;
    });
    sub.received.length = 0;
    let seq = 1;
    const start = performance.now();
    let killed = false;
    while (performance.now() - start < 3000) {
      for (let k = 0; k < 5; k++) pub.publish('m.safe.x', stamp(seq++));
      if (!killed && performance.now() - start > 1000) {
        c.kill('singapore');
        killed = true;
      }
      await sleep(5);
    }
    const sent = seq - 1;
    await until(`all ${sent} messages at Frankfurt`, 5000, () => (new Set(sub.received.map(seqOf)).size >= sent ? true : undefined), 50);
    await sleep(300); // late duplicates would show up now
    const seqs = sub.received.map(seqOf);
    const unique = new Set(seqs);
    const missing = [...Array(sent).keys()].map((i) => i + 1).filter((s) => !unique.has(s));
    assert.deepEqual(missing, [], `lost ${missing.length} of ${sent}`);
    assert.equal(seqs.length, unique.size, 'no duplicates');
    assert.ok(sent > 1500, `published ${sent} messages`);
  } finally {
    sub.close();
    pub.close();
  }
});
