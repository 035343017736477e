// MQTT session behaviour over real sockets: keep-alive expiry (and the will it publishes),
// session take-over, QoS 1 re-sent with DUP when a persistent session resumes, revocation.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import { TestEnv, http, metricValue, scrapeMetrics, wsEdge, type Relay } from '@fastpubsub/testkit/relay';
import { connectMqtt, record, waitUntil } from './mqtt/helpers.js';

const env = new TestEnv();
let relay: Relay;
let token: string;
let port: number;

before(async () => {
  relay = await env.relay({ mqtt: { listen: { host: '127.0.0.1', port: 0 } } });
  token = await env.token(relay);
  port = relay.mqttPort as number;
});
after(() => env.cleanup());

/** A raw MQTT 3.1.1 client: we control exactly which packets go out (e.g. never PUBACK, never PINGREQ). */
async function rawClient(connect: Record<string, unknown>): Promise<{ packets: Packet[]; sock: net.Socket; closed: Promise<void> }> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  const packets: Packet[] = [];
  const p = mqttParser();
  p.on('packet', (pk: Packet) => packets.push(pk));
  sock.on('data', (d) => p.parse(d));
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(generate({ cmd: 'connect', protocolVersion: 4, clean: true, keepalive: 0, username: 't1', password: Buffer.from(token), clientId: '', ...connect }));
  await waitUntil('CONNACK', 3000, () => packets.some((x) => x.cmd === 'connack'));
  return { packets, sock, closed };
}

it('a client silent for 1.5 × keep-alive is closed and its will published', async () => {
  const watcher = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token });
  const got = record(watcher);
  await watcher.subscribeAsync('a/ka/#', { qos: 0 });
  const started = Date.now();
  const raw = await rawClient({ keepalive: 1, will: { topic: 'a/ka/will', payload: Buffer.from('silent'), qos: 0, retain: false } });
  await raw.closed;
  const took = Date.now() - started;
  assert.ok(took >= 1400 && took < 4000, `closed after ${took} ms`);
  await waitUntil('the will', 2000, () => got.length > 0);
  assert.deepEqual([got[0]?.topic, got[0]?.payload], ['a/ka/will', 'silent']);
  assert.ok((metricValue(await scrapeMetrics(relay), 'fastpubsub_mqtt_errors_total', { reason: 'keepalive_timeout' }) ?? 0) >= 1);
  watcher.end(true);
});

it('unacknowledged QoS 1 deliveries are re-sent with DUP when the persistent session resumes', async () => {
  const first = await rawClient({ clientId: 'dup-1', clean: false });
  first.sock.write(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q/dup', qos: 1 }] }));
  await waitUntil('SUBACK', 3000, () => first.packets.some((x) => x.cmd === 'suback'));
  const ws = await wsEdge.connect(relay, token);
  ws.publish('t1', 'q.dup', 'needs-ack');
  await waitUntil('the first delivery', 3000, () => first.packets.some((x) => x.cmd === 'publish'));
  const original = first.packets.find((x) => x.cmd === 'publish');
  assert.equal(original?.cmd === 'publish' && original.dup, false);
  first.sock.destroy(); // no PUBACK
  await first.closed;
  const again = await rawClient({ clientId: 'dup-1', clean: false });
  await waitUntil('the re-sent delivery', 3000, () => again.packets.some((x) => x.cmd === 'publish'));
  const connack = again.packets.find((x) => x.cmd === 'connack');
  assert.equal(connack?.cmd === 'connack' && connack.sessionPresent, true);
  const resent = again.packets.find((x) => x.cmd === 'publish');
  assert.ok(resent?.cmd === 'publish' && original?.cmd === 'publish');
  assert.equal(resent.dup, true);
  assert.equal(resent.messageId, original.messageId);
  assert.equal(resent.payload.toString(), 'needs-ack');
  again.sock.write(generate({ cmd: 'puback', messageId: resent.messageId ?? 0 }));
  again.sock.write(generate({ cmd: 'disconnect' }));
  await again.closed;
  await ws.close();
});

it('a second connection with the same client id takes the session over; the first is closed (MQTT 5: 0x8E)', async () => {
  const one = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token, clientId: 'same-id' });
  const reason = new Promise<number | undefined>((r) => one.once('disconnect', (p) => r(p.reasonCode)));
  const two = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token, clientId: 'same-id' });
  assert.equal(await reason, 0x8e);
  assert.equal(two.connected, true);
  one.end(true);
  two.end(true);
});

it('revoking the token closes its MQTT connections (MQTT 5: DISCONNECT 0x87)', async () => {
  const own = await env.token(relay);
  const c = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: own });
  const reason = new Promise<number | undefined>((r) => c.once('disconnect', (p) => r(p.reasonCode)));
  const res = await http(relay.httpUrl, 'DELETE', '/v1/revoke-token', { body: { token: own } });
  assert.ok(res.status >= 200 && res.status < 300, `revoke: ${res.status}`);
  assert.equal(await reason, 0x87);
  c.end(true);
});
