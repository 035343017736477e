// `fastpubsub relay --mqtt-listen HOST:PORT` merges into the config file's `mqtt` section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRelayInput } from '../src/commands/relay.js';

test('--mqtt-listen sets mqtt.listen and keeps the other mqtt keys of the file', async () => {
  const input = await buildRelayInput({ 'master-token': 'm'.repeat(40), 'mqtt-listen': '127.0.0.1:1883' }, {});
  assert.deepEqual(input['mqtt'], { listen: { host: '127.0.0.1', port: 1883 } });
  await assert.rejects(buildRelayInput({ 'master-token': 'm'.repeat(40), 'mqtt-listen': 'nope' }, {}), /--mqtt-listen must be HOST:PORT/);
});
