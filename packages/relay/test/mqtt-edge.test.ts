// The MQTT listener against real clients: mosquitto_pub / mosquitto_sub (MQTT 3.1.1 and 5) and
// mqtt.js (MQTT 5) on a relay whose WebSocket and QUIC clients share the same channels.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TestEnv, metricValue, quicEdge, scrapeMetrics, wsEdge, type Relay } from '@fastpubsub/testkit/relay';
import { connectMqtt, record, runTool, startTool, subackCodes, waitUntil, type Received } from './mqtt/helpers.js';

const env = new TestEnv();
let relay: Relay;
let token: string;
let port: number;

before(async () => {
  relay = await env.relay({ mqtt: { listen: { host: '127.0.0.1', port: 0 }, subscribesPerSecond: 20 } });
  token = await env.token(relay);
  port = relay.mqttPort as number;
});
after(() => env.cleanup());

async function subscriptions(): Promise<number> {
  return metricValue(await scrapeMetrics(relay), 'fastpubsub_subscriptions') ?? 0;
}

async function mqttMetric(name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await scrapeMetrics(relay), name, labels) ?? 0;
}

describe('MQTT ↔ WebSocket / QUIC', () => {
  const open: Array<{ end(force?: boolean): unknown }> = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.end(true);
  });

  it('mosquitto_sub (3.1.1, QoS 1, + wildcard) receives a WebSocket publish and a QUIC publish', async () => {
    const before = await subscriptions();
    const sub = startTool('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-u', 't1', '-P', token, '-q', '1', '-t', 'a/+/c', '-C', '2', '-v']);
    await waitUntil('the mosquitto subscription', 5000, async () => (await subscriptions()) > before);
    const ws = await wsEdge.connect(relay, token);
    ws.publish('t1', 'a.b.c', 'from-ws');
    await ws.ping();
    const quic = await quicEdge.connect(relay, token);
    quic.publish('t1', 'a.q.c', 'from-quic');
    const r = await sub.result;
    await ws.close();
    await quic.close();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['a/b/c from-ws', 'a/q/c from-quic']);
  });

  it('mqtt.js (MQTT 5, QoS 1) receives a QUIC client publish, and its own QoS 1 publish is acknowledged and reaches a WebSocket subscriber', async () => {
    const client = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token, clientId: 'v5-quic' });
    open.push(client);
    const got = record(client);
    const granted = await client.subscribeAsync('q/#', { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
    const quic = await quicEdge.connect(relay, token);
    quic.publish('t1', 'q.one', 'from-quic');
    await waitUntil('the QUIC publish over MQTT', 5000, () => got.length > 0);
    assert.deepEqual(got[0], { topic: 'q/one', payload: 'from-quic', retain: false, qos: 1 });
    await quic.close();

    const ws = await wsEdge.connect(relay, token);
    await ws.subscribe('t1', 'x.#');
    // publishAsync resolves on the PUBACK (and rejects on a refusal code).
    await client.publishAsync('x/y', 'from-mqtt', { qos: 1 });
    const m = await ws.nextMessage(3000);
    assert.deepEqual([m.channel, m.payload.toString()], ['x.y', 'from-mqtt']);
    await ws.close();
  });

  it('mosquitto_pub QoS 1 reaches a WebSocket subscriber; QoS 2 is handled as 1', async () => {
    const ws = await wsEdge.connect(relay, token);
    await ws.subscribe('t1', 'b.#');
    for (const qos of ['1', '2']) {
      const r = await runTool('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv5', '-u', 't1', '-P', token, '-q', qos, '-t', `b/q${qos}`, '-m', `qos${qos}`]);
      assert.equal(r.code, 0, r.stderr);
      const m = await ws.nextMessage(3000);
      assert.deepEqual([m.channel, m.payload.toString()], [`b.q${qos}`, `qos${qos}`]);
    }
    await ws.close();
  });

  it('a retained message reaches a later subscriber with the retain flag; an empty retained publish clears it', async () => {
    const r = await runTool('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', 't1', '-P', token, '-q', '1', '-r', '-t', 'z/state', '-m', 'on']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await mqttMetric('fastpubsub_mqtt_retained_messages'), 1);
    const late = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token });
    open.push(late);
    const got = record(late);
    await late.subscribeAsync('z/#', { qos: 1 });
    await waitUntil('the retained message', 3000, () => got.length > 0);
    assert.deepEqual(got[0], { topic: 'z/state', payload: 'on', retain: true, qos: 1 });
    await runTool('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', 't1', '-P', token, '-r', '-n', '-t', 'z/state']);
    await waitUntil('the retained message cleared', 3000, async () => (await mqttMetric('fastpubsub_mqtt_retained_messages')) === 0);
  });

  it('the last will of a client that vanishes is published; a clean DISCONNECT publishes none', async () => {
    const watcher = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token });
    open.push(watcher);
    const got = record(watcher);
    await watcher.subscribeAsync('a/will/#', { qos: 1 });
    const polite = await connectMqtt(port, { protocolVersion: 4, username: 't1', password: token, will: { topic: 'a/will/polite', payload: Buffer.from('gone'), qos: 1, retain: false } });
    await polite.endAsync();
    const dying = await connectMqtt(port, { protocolVersion: 4, username: 't1', password: token, will: { topic: 'a/will/dying', payload: Buffer.from('gone'), qos: 1, retain: false } });
    dying.stream.destroy();
    await waitUntil('the will', 3000, () => got.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(got.map((g) => g.topic), ['a/will/dying']);
    dying.end(true);
  });

  it('$share/group/… delivers each message to exactly one member', async () => {
    const a = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token });
    const b = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token });
    open.push(a, b);
    const ga = record(a);
    const gb = record(b);
    await a.subscribeAsync('$share/g/b/shared/#', { qos: 0 });
    await b.subscribeAsync('$share/g/b/shared/#', { qos: 0 });
    const ws = await wsEdge.connect(relay, token);
    for (let i = 0; i < 20; i++) ws.publish('t1', 'b.shared.x', `m${i}`);
    await waitUntil('20 shared deliveries', 3000, () => ga.length + gb.length >= 20);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ga.length + gb.length, 20);
    assert.ok(ga.length > 0 && gb.length > 0, `both members got some (${ga.length} / ${gb.length})`);
    await ws.close();
  });

  it('a persistent session keeps its subscription and queues QoS 1 while the client is away', async () => {
    const opts = { protocolVersion: 4 as const, username: 't1', password: token, clientId: 'persistent-1', clean: false };
    const first = await connectMqtt(port, opts);
    await first.subscribeAsync('q/away', { qos: 1 });
    await first.endAsync();
    const ws = await wsEdge.connect(relay, token);
    ws.publish('t1', 'q.away', 'while-away');
    await ws.ping();
    await ws.close();
    const got: Received[] = [];
    const again = await connectMqtt(port, opts, got);
    open.push(again);
    await waitUntil('the queued message', 3000, () => got.length > 0);
    assert.deepEqual(got[0], { topic: 'q/away', payload: 'while-away', retain: false, qos: 1 });
  });
});

describe('MQTT refusals', () => {
  it('a CONNECT with a bad token gets "bad user name or password" (3.1.1 and 5) and is counted', async () => {
    const before = await mqttMetric('fastpubsub_mqtt_errors_total', { reason: 'bad_credentials' });
    await assert.rejects(connectMqtt(port, { protocolVersion: 5, username: 't1', password: 'AT_nope_nope' }), (err: Error & { code?: number }) => err.code === 0x86);
    const r = await runTool('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-u', 't1', '-P', 'AT_nope_nope', '-t', 'a/#', '-C', '1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not authorised|bad user name|password/i);
    assert.equal(await mqttMetric('fastpubsub_mqtt_errors_total', { reason: 'bad_credentials' }), before + 2);
  });

  it('a topic outside the grants gets 0x87 on PUBLISH and SUBSCRIBE; the connection stays up', async () => {
    const narrow = await env.token(relay, { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['a.#'], allow_channels_sub: ['a.#'] }] });
    const c = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: narrow });
    try {
      await assert.rejects(c.publishAsync('z/1', 'x', { qos: 1 }), (err: Error & { code?: number }) => err.code === 0x87);
      assert.deepEqual(await subackCodes(c, ['z/#', 'a/ok', 'bad.level/x'], 1), [0x87, 1, 0x8f]);
      await c.publishAsync('a/ok', 'fine', { qos: 1 });
      assert.equal(c.connected, true);
    } finally {
      c.end(true);
    }
  });

  it('malformed bytes after CONNECT end that connection only, counted', async () => {
    const before = await mqttMetric('fastpubsub_mqtt_errors_total', { reason: 'malformed_packet' });
    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    // A SUBSCRIBE whose topic length runs past the packet, then garbage.
    sock.write(Buffer.from([0x82, 0x05, 0x00, 0x01, 0xff, 0xff, 0x00]));
    await new Promise<void>((resolve) => sock.once('close', () => resolve()));
    assert.equal(await mqttMetric('fastpubsub_mqtt_errors_total', { reason: 'protocol_error' }) + (await mqttMetric('fastpubsub_mqtt_errors_total', { reason: 'malformed_packet' })) > before, true);
    const ok = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token });
    ok.end(true);
  });

  it('an oversize packet gets DISCONNECT 0x95 (packet too large), counted', async () => {
    const before = await mqttMetric('fastpubsub_mqtt_errors_total', { reason: 'packet_too_large' });
    const c = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token });
    const reason = new Promise<number | undefined>((resolve) => c.once('disconnect', (p) => resolve(p.reasonCode)));
    // mqtt.js checks the server's maximumPacketSize itself: write the raw packet past it.
    const big = Buffer.alloc(200 * 1024, 1);
    c.stream.write(Buffer.concat([Buffer.from([0x30, 0x86, 0xc0, 0x0c, 0x00, 0x01, 0x61]), big]));
    assert.equal(await reason, 0x95);
    c.end(true);
    assert.equal(await mqttMetric('fastpubsub_mqtt_errors_total', { reason: 'packet_too_large' }), before + 1);
  });

  it('a SUBSCRIBE storm gets 0x97 (quota exceeded) above the rate, counted, connection kept', async () => {
    const c = await connectMqtt(port, { protocolVersion: 5, username: 't1', password: token });
    try {
      const codes = (await Promise.all(Array.from({ length: 60 }, (_, i) => subackCodes(c, [`a/storm/${i}`], 0)))).flat();
      assert.ok(codes.includes(0x97), 'some refused');
      assert.ok(codes.includes(0), 'some granted');
      assert.ok((await mqttMetric('fastpubsub_mqtt_errors_total', { reason: 'subscribe_rate' })) > 0);
      assert.equal(c.connected, true);
    } finally {
      c.end(true);
    }
  });
});
