// Config of the MQTT listener and the bridges: defaults, strict keys, typed refusals of
// mappings that cannot work (before anything binds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, MQTT_DEFAULTS, isFpsError, resolveRelayConfig } from '@fastpubsub/core';
import { startRelay } from '@fastpubsub/relay';
import { Mapping } from '../src/bridges/mapping.js';

const MT = 'x'.repeat(40);

test('mqtt: absent by default; listen host defaults to the HTTP host; unknown keys fail with their path', () => {
  assert.equal(resolveRelayConfig({ masterToken: MT }).mqtt, undefined);
  const c = resolveRelayConfig({ masterToken: MT, listen: { host: '10.1.2.3' }, mqtt: { listen: { port: 1884 } } });
  assert.deepEqual(c.mqtt?.listen, { host: '10.1.2.3', port: 1884 });
  assert.equal(c.mqtt?.maxInflight, MQTT_DEFAULTS.maxInflight);
  assert.throws(() => resolveRelayConfig({ masterToken: MT, mqtt: { listen: { port: 1 }, maxInflights: 3 } }), /mqtt\.maxInflights: unknown key/);
  assert.throws(() => resolveRelayConfig({ masterToken: MT, mqtt: {} }), /mqtt\.listen: is required/);
});

test('bridges: url scheme, direction and ids are checked by the schema', () => {
  const ok = { id: 'b1', url: 'nats://127.0.0.1:4222', tenant: 't1', mappings: [{ external: 'a.>', channel: 'a.#', direction: 'both' }] };
  const c = resolveRelayConfig({ masterToken: MT, bridges: [ok] });
  assert.equal(c.bridges[0]?.reconnectMinMs, 200);
  assert.throws(() => resolveRelayConfig({ masterToken: MT, bridges: [{ ...ok, url: 'amqp://x' }] }), /bridges\[0\]\.url/);
  assert.throws(() => resolveRelayConfig({ masterToken: MT, bridges: [{ ...ok, mappings: [{ external: 'a', channel: 'a', direction: 'sideways' }] }] }), /must be one of/);
});

test('bridge mappings swap prefixes and keep tails; mismatched wildcards are refused at start with config_invalid', async () => {
  const nats = new Mapping({ external: 'sensors.>', channel: 'plant.sensors.#', direction: 'both' }, 'nats');
  assert.equal(nats.toChannel('sensors.k1.temp'), 'plant.sensors.k1.temp');
  assert.equal(nats.toExternal('plant.sensors.k1.temp'), 'sensors.k1.temp');
  assert.equal(nats.toExternal('plant.sensors'), undefined);
  assert.equal(nats.toChannel('other.k1'), undefined);
  assert.equal(nats.toChannel('sensors.bad char'), undefined);
  const one = new Mapping({ external: 'a.*', channel: 'x.*', direction: 'in' }, 'nats');
  assert.equal(one.toChannel('a.b'), 'x.b');
  assert.equal(one.toChannel('a.b.c'), undefined);
  const redis = new Mapping({ external: 'events.*', channel: 'ev.#', direction: 'out' }, 'redis');
  assert.equal(redis.toExternal('ev.a.b'), 'events.a.b');
  assert.throws(() => new Mapping({ external: 'a.>', channel: 'x.*', direction: 'both' }, 'nats'), /same kind of wildcard/);
  await assert.rejects(
    startRelay({ masterToken: MT, listen: { host: '127.0.0.1', port: 0 }, logLevel: 'silent', bridges: [{ id: 'b', url: 'nats://127.0.0.1:1', tenant: 't1', mappings: [{ external: 'a.>', channel: 'x.*', direction: 'both' }] }] }),
    (err: unknown) => isFpsError(err) && err.code === ErrorCode.ConfigInvalid && /bridges\[0\]\.mappings\[0\]/.test(err.message),
  );
});
