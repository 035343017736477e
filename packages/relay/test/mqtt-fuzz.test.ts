// Fuzzing the MQTT decode path: random and mutated packets behind a valid CONNECT, sent over
// real sockets to a relay's MQTT listener. Each must end at most its own connection; the relay
// keeps serving (checked after the runs by a real client). Plus properties of the topic mapping.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { generate } from 'mqtt-packet';
import { TestEnv, wsEdge, type Relay } from '@fastpubsub/testkit/relay';
import { channelToTopic, filterToPattern, topicToChannel } from '../src/edge/mqtt/topics.js';
import { connectMqtt } from './mqtt/helpers.js';

const env = new TestEnv();
let relay: Relay;
let token: string;

before(async () => {
  relay = await env.relay({ mqtt: { listen: { host: '127.0.0.1', port: 0 }, maxPacketBytes: 4096 } });
  token = await env.token(relay);
});
after(() => env.cleanup());

const VALID = [
  generate({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'a/+/c', qos: 1 }] }, { protocolVersion: 5 }),
  generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('xyz'), qos: 1, messageId: 9, retain: true, dup: false }, { protocolVersion: 5 }),
  generate({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['a/#'] }, { protocolVersion: 5 }),
  generate({ cmd: 'puback', messageId: 1 }, { protocolVersion: 5 }),
  generate({ cmd: 'pingreq' }, { protocolVersion: 5 }),
];

const mutated = fc
  .tuple(fc.constantFrom(...VALID), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }))
  .map(([packet, flips]) => {
    const b = Buffer.from(packet);
    for (const [at, value] of flips) b[at % b.length] = value;
    return b;
  });
const junk = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a));

async function sendAfterConnect(bytes: Buffer, version: 4 | 5): Promise<void> {
  const sock = net.connect(relay.mqttPort as number, '127.0.0.1');
  sock.on('error', () => undefined);
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  sock.write(generate({ cmd: 'connect', protocolVersion: version, clientId: '', clean: true, keepalive: 30, username: 't1', password: Buffer.from(token) }, { protocolVersion: version }));
  sock.write(bytes);
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 40);
    sock.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  sock.destroy();
}

describe('MQTT decode path under fuzzing', () => {
  it('random and mutated packets never hurt the relay', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, junk), fc.constantFrom(4 as const, 5 as const), async (bytes, version) => {
        await sendAfterConnect(bytes, version);
      }),
      { numRuns: 150 },
    );
    // Still serving: a real MQTT client publishes to a WebSocket subscriber.
    const ws = await wsEdge.connect(relay, token);
    await ws.subscribe('t1', 'a.#');
    const c = await connectMqtt(relay.mqttPort as number, { protocolVersion: 5, username: 't1', password: token });
    await c.publishAsync('a/after', 'alive', { qos: 1 });
    const m = await ws.nextMessage(3000);
    assert.equal(m.payload.toString(), 'alive');
    c.end(true);
    await ws.close();
  });
});

describe('topic mapping', () => {
  const level = fc.stringMatching(/^[A-Za-z0-9_~@-]{1,8}$/);
  it('a topic of valid levels maps to a channel and back unchanged', () => {
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 8 }), (levels) => {
        const topic = levels.join('/');
        const r = topicToChannel(topic);
        assert.ok(r.ok);
        assert.equal(r.value, levels.join('.'));
        assert.equal(channelToTopic(r.value), topic);
      }),
      { numRuns: 500 },
    );
  });

  it('wildcards map + → *, # → # (last only); unmappable levels are refused with a reason', () => {
    assert.deepEqual(filterToPattern('a/+/c/#'), { ok: true, value: 'a.*.c.#' });
    assert.deepEqual(filterToPattern('#'), { ok: true, value: '#' });
    for (const bad of ['a/#/c', 'a//b', 'a.b/c', 'a/b+', 'a/ü', '$SYS/x']) assert.equal(filterToPattern(bad).ok, false, bad);
    for (const bad of ['a/+', 'a/#', '', 'a/', 'x.y', 'sp ace']) assert.equal(topicToChannel(bad).ok, false, bad);
    const r = topicToChannel('a.b/c');
    assert.ok(!r.ok && r.reason.includes("'.'"));
  });
});
