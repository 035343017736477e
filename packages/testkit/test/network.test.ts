// NetworkEmulator from a topology, over real UDP sockets on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkEmulator, parseTopology, type Topology } from '../src/index.js';
import { peer, roundTrip, type Peer } from './udp-helpers.js';

const topology: Topology = {
  nodes: [{ id: 'tokyo', region: 'ap-northeast' }, { id: 'frankfurt' }, { id: 'singapore' }],
  links: [
    { a: 'tokyo', b: 'frankfurt', delayMs: 120 },
    { a: 'tokyo', b: 'singapore', delayMs: 40, jitterMs: 2 },
    { a: 'singapore', b: 'frankfurt', delayMs: 60, lossRate: 0 },
  ],
  seed: 9,
};

test('topology is JSON-serialisable and validated strictly', () => {
  assert.deepEqual(parseTopology(JSON.parse(JSON.stringify(topology))), topology);
  const bad = (t: unknown, re: RegExp): void => assert.throws(() => parseTopology(t), re);
  bad(null, /must be an object/);
  bad({ nodes: [], links: [] }, /non-empty/);
  bad({ nodes: [{ id: 'a' }, { id: 'a' }], links: [] }, /duplicate node id 'a'/);
  bad({ nodes: [{ id: 'a' }], links: [{ a: 'a', b: 'z', delayMs: 1 }] }, /unknown node 'z'/);
  bad({ nodes: [{ id: 'a' }, { id: 'b' }], links: [{ a: 'a', b: 'b', delayMs: -1 }] }, /delayMs/);
  bad({ nodes: [{ id: 'a' }, { id: 'b' }], links: [{ a: 'a', b: 'b', delayMs: 1 }, { a: 'b', b: 'a', delayMs: 1 }] }, /duplicate link/);
  bad({ nodes: [{ id: 'a' }, { id: 'b' }], links: [{ a: 'a', b: 'b', delayMs: 1, lossrate: 0.1 }] }, /unknown field 'lossrate'/);
  bad({ nodes: [{ id: 'a' }], links: [], extra: 1 }, /unknown field 'extra'/);
});

test('each node reaches each neighbour through its emulated link; setLink at runtime', async () => {
  const peers = new Map<string, Peer>();
  for (const n of topology.nodes) peers.set(n.id, await peer(true));
  const ports = Object.fromEntries([...peers].map(([id, p]) => [id, p.port]));
  const net = await NetworkEmulator.start(topology, ports);
  try {
    const tokyo = peers.get('tokyo')!;
    const frankfurt = peers.get('frankfurt')!;
    assert.deepEqual(net.neighbours('tokyo').sort(), ['frankfurt', 'singapore']);

    const direct = await roundTrip(tokyo, net.addressFor('tokyo', 'frankfurt'));
    assert.ok(direct >= 228 && direct < 900, `tokyo→frankfurt rtt ${direct}`);
    const toSg = await roundTrip(tokyo, net.addressFor('tokyo', 'singapore'));
    assert.ok(toSg >= 72 && toSg < 600, `tokyo→singapore rtt ${toSg}`);
    // The link's other end dials the other address of the same link.
    const back = await roundTrip(frankfurt, net.addressFor('frankfurt', 'tokyo'));
    assert.ok(back >= 228 && back < 900, `frankfurt→tokyo rtt ${back}`);
    assert.notDeepEqual(net.addressFor('tokyo', 'frankfurt'), net.addressFor('frankfurt', 'tokyo'));

    net.setLink('frankfurt', 'tokyo', { delayMs: 10 });
    const improved = await roundTrip(tokyo, net.addressFor('tokyo', 'frankfurt'));
    assert.ok(improved >= 19 && improved < 400, `after setLink rtt ${improved}`);

    net.setLink('tokyo', 'frankfurt', { delayMs: 100 }, { oneWay: true });
    assert.equal(net.link('tokyo', 'frankfurt').params('aToB').delayMs, 100);
    assert.equal(net.link('tokyo', 'frankfurt').params('bToA').delayMs, 10);
    net.setLink('frankfurt', 'tokyo', { delayMs: 30 }, { oneWay: true });
    assert.equal(net.link('tokyo', 'frankfurt').params('bToA').delayMs, 30);

    net.setLink('tokyo', 'frankfurt', { down: true });
    const before = tokyo.received.length;
    tokyo.send(net.addressFor('tokyo', 'frankfurt'), 'ping-lost');
    await assert.rejects(tokyo.waitFor(before + 1, 300));

    const stats = net.stats();
    assert.equal(stats.length, 3);
    const tf = stats.find((s) => s.a === 'tokyo' && s.b === 'frankfurt')!;
    assert.ok(tf.aToB.forwarded >= 2 && tf.aToB.droppedDown === 1);

    assert.throws(() => net.addressFor('tokyo', 'nowhere'), /no link/);
  } finally {
    await net.close();
    for (const p of peers.values()) await p.close();
  }
});

test('start() fails cleanly when a node has no port', async () => {
  await assert.rejects(NetworkEmulator.start(topology, { tokyo: 1, frankfurt: 2 }), /no UDP port given for node 'singapore'/);
});
