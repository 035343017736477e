// NATS and Redis bridges against a real nats-server and redis-server: both directions, no
// loop, the external system vanishing and refusing connections (dropped and counted, everyone
// else still served), and reconnection when it returns.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as natsConnect, type NatsConnection, type Msg } from 'nats';
import { Redis } from 'ioredis';
import { TestEnv, freePort, metricValue, scrapeMetrics, wsEdge, type Relay } from '@fastpubsub/testkit/relay';
import { waitUntil } from './mqtt/helpers.js';

const env = new TestEnv();
let relay: Relay;
let token: string;
let natsPort: number;
let redisPort: number;
let deadPort: number;
let nats: ChildProcess | undefined;
let redis: ChildProcess | undefined;

function startNats(): ChildProcess {
  const p = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort)], { stdio: 'ignore' });
  return p;
}

async function stop(p: ChildProcess | undefined): Promise<void> {
  if (p === undefined || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await exited;
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  return metricValue(await scrapeMetrics(relay), name, labels) ?? 0;
}

async function natsClient(): Promise<NatsConnection> {
  const end = Date.now() + 5000;
  for (;;) {
    try {
      return await natsConnect({ servers: `127.0.0.1:${natsPort}`, reconnect: false });
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

before(async () => {
  natsPort = await freePort();
  redisPort = await freePort();
  deadPort = await freePort();
  nats = startNats();
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await (await natsClient()).close();
  relay = await env.relay({
    bridges: [
      { id: 'n1', url: `nats://127.0.0.1:${natsPort}`, tenant: 't1', mappings: [{ external: 'sensors.>', channel: 'a.sensors.#', direction: 'both' }], reconnectMinMs: 50, reconnectMaxMs: 400 },
      { id: 'r1', url: `redis://127.0.0.1:${redisPort}`, tenant: 't1', mappings: [{ external: 'ext.*', channel: 'b.ext.#', direction: 'both' }], reconnectMinMs: 50, reconnectMaxMs: 400 },
      { id: 'dead', url: `redis://127.0.0.1:${deadPort}`, tenant: 't1', mappings: [{ external: 'gone', channel: 'x.gone', direction: 'out' }], reconnectMinMs: 50, reconnectMaxMs: 400 },
    ],
  });
  token = await env.token(relay);
  await waitUntil('both bridges up', 10_000, async () => (await metric('fastpubsub_bridge_up', { bridge: 'n1' })) === 1 && (await metric('fastpubsub_bridge_up', { bridge: 'r1' })) === 1);
});

after(async () => {
  await env.cleanup();
  await stop(nats);
  await stop(redis);
});

describe('NATS bridge', () => {
  it('carries NATS → WebSocket and WebSocket → NATS, each message exactly once, no loop', async () => {
    const nc = await natsClient();
    const fromBridge: Msg[] = [];
    nc.subscribe('sensors.>', { callback: (_e, m) => fromBridge.push(m) });
    await nc.flush();
    const ws = await wsEdge.connect(relay, token);
    await ws.subscribe('t1', 'a.sensors.#');
    const loopsBefore = await metric('fastpubsub_bridge_dropped_total', { bridge: 'n1', reason: 'loop' });

    nc.publish('sensors.k1.temp', Buffer.from('21.5'));
    const m = await ws.nextMessage(3000);
    assert.deepEqual([m.channel, m.payload.toString()], ['a.sensors.k1.temp', '21.5']);

    ws.publish('t1', 'a.sensors.k2', 'from-ws');
    await waitUntil('the WS publish on NATS', 3000, () => fromBridge.some((x) => x.subject === 'sensors.k2'));
    await new Promise((r) => setTimeout(r, 300));
    // sensors.k1.temp was published by our test client: it comes back to the test subscriber
    // once from NATS itself, never a second time through the bridge.
    assert.deepEqual(fromBridge.map((x) => x.subject).sort(), ['sensors.k1.temp', 'sensors.k2']);
    const out = fromBridge.find((x) => x.subject === 'sensors.k2');
    assert.equal(out?.headers?.get('Fps-Bridge'), 'n1');
    assert.equal(Buffer.from(out?.data ?? []).toString(), 'from-ws');
    // The WS client got its own publish once and the NATS message once: nothing looped back in.
    const own = await ws.nextMessage(1000);
    assert.equal(own.channel, 'a.sensors.k2');
    await ws.expectNoMessage(300);
    assert.ok((await metric('fastpubsub_bridge_dropped_total', { bridge: 'n1', reason: 'loop' })) >= loopsBefore + 2, 'both loop guards fired');
    await ws.close();
    await nc.close();
  });

  it('a NATS server that vanishes: out-bound dropped and counted, the relay keeps serving, the bridge reconnects', async () => {
    const ws = await wsEdge.connect(relay, token);
    await ws.subscribe('t1', 'a.#');
    await stop(nats);
    await waitUntil('bridge down', 5000, async () => (await metric('fastpubsub_bridge_up', { bridge: 'n1' })) === 0);
    const dropsBefore = await metric('fastpubsub_bridge_dropped_total', { bridge: 'n1', reason: 'down' });
    ws.publish('t1', 'a.sensors.lost', 'x');
    const own = await ws.nextMessage(2000);
    assert.equal(own.channel, 'a.sensors.lost', 'the relay still serves its clients');
    await waitUntil('the drop counted', 2000, async () => (await metric('fastpubsub_bridge_dropped_total', { bridge: 'n1', reason: 'down' })) === dropsBefore + 1);
    nats = startNats();
    await waitUntil('bridge up again', 10_000, async () => (await metric('fastpubsub_bridge_up', { bridge: 'n1' })) === 1);
    const nc = await natsClient();
    nc.publish('sensors.back', Buffer.from('again'));
    const m = await ws.nextMessage(3000);
    assert.deepEqual([m.channel, m.payload.toString()], ['a.sensors.back', 'again']);
    await nc.close();
    await ws.close();
  });
});

describe('Redis bridge', () => {
  it('carries Redis → WebSocket and WebSocket → Redis, each message exactly once, no loop', async () => {
    const pub = new Redis(redisPort, '127.0.0.1');
    const sub = new Redis(redisPort, '127.0.0.1');
    const got: Array<[string, string]> = [];
    sub.on('pmessage', (_p: string, ch: string, msg: string) => got.push([ch, msg]));
    await sub.psubscribe('ext.*');
    const ws = await wsEdge.connect(relay, token);
    await ws.subscribe('t1', 'b.ext.#');

    await pub.publish('ext.door', 'open');
    const m = await ws.nextMessage(3000);
    assert.deepEqual([m.channel, m.payload.toString()], ['b.ext.door', 'open']);

    ws.publish('t1', 'b.ext.light', 'on');
    await waitUntil('the WS publish on Redis', 3000, () => got.some(([ch]) => ch === 'ext.light'));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(got.sort(), [['ext.door', 'open'], ['ext.light', 'on']]);
    assert.equal((await ws.nextMessage(1000)).channel, 'b.ext.light');
    await ws.expectNoMessage(300);
    assert.ok((await metric('fastpubsub_bridge_dropped_total', { bridge: 'r1', reason: 'loop' })) >= 2);
    await ws.close();
    pub.disconnect();
    sub.disconnect();
  });

  it('a Redis that refuses connections: the bridge is down, out-bound dropped and counted, nothing else hurt', async () => {
    assert.equal(await metric('fastpubsub_bridge_up', { bridge: 'dead' }), 0);
    const ws = await wsEdge.connect(relay, token);
    await ws.subscribe('t1', 'x.#');
    const before = await metric('fastpubsub_bridge_dropped_total', { bridge: 'dead', reason: 'down' });
    ws.publish('t1', 'x.gone', 'nobody');
    assert.equal((await ws.nextMessage(2000)).channel, 'x.gone');
    await waitUntil('the drop counted', 2000, async () => (await metric('fastpubsub_bridge_dropped_total', { bridge: 'dead', reason: 'down' })) === before + 1);
    assert.ok((await metric('fastpubsub_bridge_disconnects_total', { bridge: 'dead' })) >= 0);
    await ws.close();
  });
});
