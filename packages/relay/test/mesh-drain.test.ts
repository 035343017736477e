// Graceful shutdown keeps the mesh up while the edges drain: a client that was sent RECONNECT
// is still served messages published at another PoP until the grace period ends (it needs them
// while it moves to another edge, make-before-break).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WsClient, cluster, seqOf, sleep, stamp, until } from './mesh-helpers.js';

test('during a graceful shutdown, a draining subscriber still gets messages from other PoPs', async (t) => {
  const c = await cluster({
    nodes: [{ id: 'a' }, { id: 'b' }],
    links: [{ a: 'a', b: 'b', delayMs: 2 }],
  });
  t.after(() => c.stop());
  const sub = await WsClient.open(c, 'a');
  const pub = await WsClient.open(c, 'b');
  t.after(() => {
    sub.close();
    pub.close();
  });
  await sub.subscribe('m.drain');
  // Wait until b knows a's interest (probes until one arrives).
  let probe = 1_000_000;
  await until('the route b → a', 10_000, async () => {
    pub.publish('m.drain', stamp(probe++));
    await sleep(50);
    return sub.received.length > 0 ? true : undefined;
  });
  await sleep(200);
  sub.received.length = 0;

  // SIGTERM: relay a sends RECONNECT and drains its clients (reconnectGraceMs 500 in the dev cluster).
  process.kill(c.nodes.get('a')!.pid!, 'SIGTERM');
  await sleep(50);
  const sent = 20;
  for (let i = 0; i < sent; i++) {
    pub.publish('m.drain', stamp(i));
    await sleep(5);
  }
  await until(`${sent} messages during the drain`, 3000, () => (sub.received.length >= sent ? true : undefined)).catch(() => undefined);
  assert.deepEqual(sub.received.map(seqOf), Array.from({ length: sent }, (_, i) => i));
});
