// MQTT across the mesh: a 3-relay dev cluster with an MQTT listener at every PoP. mosquitto_pub
// at one PoP reaches a WebSocket subscriber at another, and a WebSocket publish at one PoP
// reaches mosquitto_sub at another.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DevCluster } from '@fastpubsub/cli';
import { freePort } from '@fastpubsub/testkit/relay';
import { TENANT, WsClient, cluster, issueMeshToken, until } from './mesh-helpers.js';
import { runTool, startTool } from './mqtt/helpers.js';

const IDS = ['a', 'b', 'c'] as const;
const topology = {
  nodes: IDS.map((id) => ({ id })),
  links: [
    { a: 'a', b: 'b', delayMs: 2 },
    { a: 'b', b: 'c', delayMs: 2 },
  ],
};

let c: DevCluster;
const mqttPorts = new Map<string, number>();

before(async () => {
  for (const id of IDS) mqttPorts.set(id, await freePort());
  c = await cluster(topology, {
    mesh: { probeIntervalMs: 100 },
    relayConfig: (id) => ({ mqtt: { listen: { host: '127.0.0.1', port: mqttPorts.get(id) } } }),
  });
});

after(async () => {
  await c?.stop();
});

it('mosquitto_pub at PoP a reaches a WebSocket subscriber at PoP c (two mesh hops)', async () => {
  const sub = await WsClient.open(c, 'c');
  await sub.subscribe('m.sensors.#');
  const token = await issueMeshToken(c, 'a');
  // Interest travels c → b → a; publish until the first copy arrives (bounded), then check one exact message.
  await until('interest of c at a', 15_000, async () => {
    await runTool('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPorts.get('a')), '-u', TENANT, '-P', token, '-q', '1', '-t', 'm/sensors/warmup', '-m', 'w']);
    return sub.received.length > 0 ? true : undefined;
  }, 200);
  const r = await runTool('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPorts.get('a')), '-V', 'mqttv5', '-u', TENANT, '-P', token, '-q', '1', '-t', 'm/sensors/t1', '-m', 'hello-from-mqtt']);
  assert.equal(r.code, 0, r.stderr);
  const got = await until('the MQTT publish at c', 5000, () => sub.received.find((m) => m.channel === 'm.sensors.t1'));
  assert.equal(got.payload.toString(), 'hello-from-mqtt');
  sub.close();
});

it('a WebSocket publish at PoP c reaches mosquitto_sub at PoP a', async () => {
  const token = await issueMeshToken(c, 'a');
  const tool = startTool('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(mqttPorts.get('a')), '-u', TENANT, '-P', token, '-q', '1', '-t', 'm/back/#', '-C', '1', '-v'], 20_000);
  const pub = await WsClient.open(c, 'c');
  let done = false;
  void tool.result.then(() => (done = true));
  await until('mosquitto_sub receives', 15_000, () => {
    if (done) return true;
    pub.publish('m.back.x', Buffer.from('hello-from-ws'));
    return undefined;
  }, 200);
  const r = await tool.result;
  pub.close();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n')[0], 'm/back/x hello-from-ws');
});
