// One carrier per bridge in a mesh: two PoPs configure the same NATS bridge; exactly one
// carries it (no duplicates either way), and when that PoP dies the other takes over.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as natsConnect, type NatsConnection } from 'nats';
import type { DevCluster } from '@fastpubsub/cli';
import { freePort, metricValue } from '@fastpubsub/testkit/relay';
import { TENANT, WsClient, cluster, sleep, until } from './mesh-helpers.js';

const IDS = ['a', 'b'] as const;
let c: DevCluster;
let nats: ChildProcess;
let natsPort: number;
let nc: NatsConnection;

async function carrierMetric(id: string): Promise<number> {
  try {
    const text = await (await fetch(`${c.nodes.get(id)!.httpUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    return metricValue(text, 'fastpubsub_bridge_carrier', { bridge: 'shared' }) ?? 0;
  } catch {
    return 0; // a dead PoP carries nothing
  }
}

before(async () => {
  natsPort = await freePort();
  nats = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort)], { stdio: 'ignore' });
  nc = await until('nats-server', 5000, async () => natsConnect({ servers: `127.0.0.1:${natsPort}`, reconnect: false }).catch(() => undefined));
  c = await cluster(
    { nodes: IDS.map((id) => ({ id })), links: [{ a: 'a', b: 'b', delayMs: 2 }] },
    {
      mesh: { probeIntervalMs: 100 },
      relayConfig: () => ({
        bridges: [{ id: 'shared', url: `nats://127.0.0.1:${natsPort}`, tenant: TENANT, mappings: [{ external: 'plant.>', channel: 'm.plant.#', direction: 'both' }], reconnectMinMs: 50, reconnectMaxMs: 500 }],
      }),
    },
  );
});

after(async () => {
  await c?.stop();
  await nc?.close();
  nats?.kill('SIGKILL');
});

it('exactly one PoP carries the bridge; messages cross once each way; the other PoP takes over when it dies', async () => {
  await until('one carrier', 15_000, async () => ((await carrierMetric('a')) + (await carrierMetric('b')) === 1 ? true : undefined), 200);
  // Stable for a while (no flapping between the two).
  await sleep(1000);
  assert.equal((await carrierMetric('a')) + (await carrierMetric('b')), 1);
  const carrier = (await carrierMetric('a')) === 1 ? 'a' : 'b';
  const other = carrier === 'a' ? 'b' : 'a';

  const subs = { a: await WsClient.open(c, 'a'), b: await WsClient.open(c, 'b') };
  await subs.a.subscribe('m.plant.#');
  await subs.b.subscribe('m.plant.#');
  const onNats: string[] = [];
  nc.subscribe('plant.>', { callback: (_e, m) => onNats.push(m.subject) });
  await nc.flush();
  // Interest must reach the carrier before NATS → both PoPs is exact: wait for a first copy at both.
  await until('NATS → both PoPs', 10_000, async () => {
    nc.publish('plant.warmup', Buffer.from('w'));
    await sleep(200);
    return subs.a.received.length > 0 && subs.b.received.length > 0 ? true : undefined;
  }, 10);
  await sleep(300);
  const base = { a: subs.a.received.length, b: subs.b.received.length };
  nc.publish('plant.line1', Buffer.from('once'));
  await until('plant.line1 at both', 3000, () => (subs.a.received.length > base.a && subs.b.received.length > base.b ? true : undefined), 20);
  await sleep(300);
  assert.equal(subs.a.received.filter((m) => m.channel === 'm.plant.line1').length, 1);
  assert.equal(subs.b.received.filter((m) => m.channel === 'm.plant.line1').length, 1);

  subs[other].publish('m.plant.fromws', Buffer.from('x'));
  await until('the WS publish on NATS', 3000, () => (onNats.includes('plant.fromws') ? true : undefined), 20);
  await sleep(300);
  assert.equal(onNats.filter((s) => s === 'plant.fromws').length, 1, 'one copy on NATS, not one per PoP');

  // The carrier dies: the other PoP carries the bridge within seconds.
  c.kill(carrier);
  await until(`${other} carries`, 10_000, async () => ((await carrierMetric(other)) === 1 ? true : undefined), 200);
  const before = subs[other].received.length;
  await until('NATS → the survivor', 5000, async () => {
    nc.publish('plant.after', Buffer.from('failover'));
    await sleep(200);
    return subs[other].received.length > before ? true : undefined;
  }, 10);
  assert.equal(subs[other].received.at(-1)?.channel, 'm.plant.after');
  subs.a.close();
  subs.b.close();
});
