// Drop accounting across the mesh, on two real relay processes behind the link emulator: a
// message published at one PoP and delivered at another is not "dropped for no subscribers" at
// its origin; one nobody wants is, once. The link-queue drop series is a counter.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DevCluster } from '@fastpubsub/cli';
import { WsClient, cluster, sleep, until } from './mesh-helpers.js';

const topology = { nodes: [{ id: 'a' }, { id: 'b' }], links: [{ a: 'a', b: 'b', delayMs: 5 }] };

let c: DevCluster;
before(async () => {
  c = await cluster(topology, { mesh: { probeIntervalMs: 100 } });
});
after(async () => {
  await c?.stop();
});

async function metricsOf(id: string): Promise<string> {
  return (await fetch(`${c.nodes.get(id)!.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line !== undefined, `${series} present`);
  return Number(line.slice(series.length + 1));
}

const NO_SUBSCRIBERS = 'fastpubsub_dropped_messages_total{reason="no_subscribers"}';

test('a message delivered at another PoP is not counted as dropped at its origin; an unwanted one is', async () => {
  const sub = await WsClient.open(c, 'b');
  const pub = await WsClient.open(c, 'a');
  try {
    await sub.subscribe('m.wanted');
    // Until a learns b's interest, publishes are (rightly) unwanted: wait for the first delivery.
    await until('first message over the mesh', 20_000, async () => {
      pub.publish('m.wanted', Buffer.from('probe'));
      await sleep(100);
      return sub.received.length > 0 ? true : undefined;
    });
    await sleep(300); // let stragglers of the probe loop land
    const before = sample(await metricsOf('a'), NO_SUBSCRIBERS);
    const deliveredBefore = sub.received.length;
    for (let i = 0; i < 50; i++) pub.publish('m.wanted', Buffer.from(`x${i}`));
    await until('50 messages at b', 10_000, () => (sub.received.length - deliveredBefore >= 50 ? true : undefined));
    assert.equal(sample(await metricsOf('a'), NO_SUBSCRIBERS), before, 'forwarded messages are not drops at the origin');

    for (let i = 0; i < 3; i++) pub.publish('m.nobody', Buffer.from('y'));
    await until('three unwanted messages counted at a', 5000, async () => (sample(await metricsOf('a'), NO_SUBSCRIBERS) === before + 3 ? true : undefined));
  } finally {
    sub.close();
    pub.close();
  }
});

test('fastpubsub_mesh_link_queue_dropped_total is a counter with a series per peer', async () => {
  const text = await metricsOf('a');
  assert.match(text, /^# TYPE fastpubsub_mesh_link_queue_dropped_total counter$/m);
  assert.equal(sample(text, 'fastpubsub_mesh_link_queue_dropped_total{peer="b"}'), 0);
});
