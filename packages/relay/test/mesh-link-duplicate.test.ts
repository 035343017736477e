// Duplicate links while messages flow (two relays in one process, real UDP on loopback): a peer
// that dials late must not replace a link that already carries traffic, and when both sides
// dial at once and one connection is replaced, what was sent on it is re-sent on the winner.
// Receivers deduplicate by message id, as the mesh does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fastpubsub/core';
import { encodeFwd } from '@fastpubsub/wire';
import { createMeshPki, loadMeshCredentials, type MeshCredentials } from '../src/mesh/link/pki.js';
import { SeedDiscovery } from '../src/mesh/link/discovery.js';
import { MeshTransport } from '../src/mesh/link/transport.js';
import { sleep, until } from './mesh-helpers.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
const creds: Record<string, MeshCredentials> = {};
const transports: MeshTransport[] = [];

function transport(c: MeshCredentials, discovery: SeedDiscovery): MeshTransport {
  const t = new MeshTransport({
    credentials: c,
    host: '127.0.0.1',
    port: 0,
    discovery,
    probeIntervalMs: 50,
    linkQueueBytes: 1 << 20,
    now: () => performance.now(),
    logger,
    boot: Date.now(),
  });
  transports.push(t);
  return t;
}

/** Every distinct message id (the sequence number in the payload) a transport receives. */
function receiver(t: MeshTransport): Set<number> {
  const got = new Set<number>();
  t.on('link', (l) => l.on('fwd', (f) => got.add(Buffer.from(f.data).readUInt32BE(0))));
  return got;
}

function frame(seq: number, from: string, to: string): Uint8Array {
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(12, seq);
  const data = Buffer.alloc(4);
  data.writeUInt32BE(seq);
  return encodeFwd({ flags: 0, ttl: 8, mode: 0, id, origin: from, dests: [to], tenant: 't', channel: 'm.x', data });
}

/** Sends `n` frames from `t` to `peer`, one every ms, on whatever link is current. */
async function pump(t: MeshTransport, peer: string, n: number): Promise<number> {
  let sent = 0;
  for (let seq = 1; seq <= n; seq++) {
    const l = await until(`link to ${peer}`, 5000, () => t.links().get(peer), 1);
    l.sendFwd(frame(seq, t.self, peer));
    sent++;
    if (seq % 5 === 0) await sleep(1);
  }
  return sent;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mesh-dup-'));
  await createMeshPki(join(dir, 'mesh'), ['a', 'b']);
  for (const id of ['a', 'b']) {
    creds[id] = await loadMeshCredentials({ caFile: join(dir, 'mesh', 'ca.pem'), certFile: join(dir, 'mesh', `${id}.pem`), keyFile: join(dir, 'mesh', `${id}.key`) }, id);
  }
});

after(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('mesh duplicate links with traffic', () => {
  it('a late dial by the tie-break winner does not replace a link that carries traffic', async () => {
    const aDisc = new SeedDiscovery([], { peerExchange: true });
    const a = transport(creds['a']!, aDisc);
    a.start();
    const b = transport(creds['b']!, new SeedDiscovery([`127.0.0.1:${a.address.port}`], { peerExchange: false }));
    const got = receiver(a);
    let unlinks = 0;
    b.on('unlink', () => unlinks++);
    b.start();
    const first = await until('b links to a', 5000, () => b.links().get('a'));
    const sending = pump(b, 'a', 1000);
    await sleep(100);
    // a learns b's address without its id (as from a seed): it dials, finds b already linked.
    aDisc.learn({ addr: `127.0.0.1:${b.address.port}` });
    const n = await sending;
    await until('all frames', 5000, () => (got.size === n ? true : undefined));
    assert.equal(b.links().get('a'), first, 'the link carrying traffic was replaced');
    assert.equal(unlinks, 0);
    assert.equal(first.counters.fwdResent, 0);
  });

  for (let round = 1; round <= 4; round++) {
    it(`both sides dial at about the same time while sending: nothing is lost (round ${round})`, async () => {
      const aDisc = new SeedDiscovery([], { peerExchange: true });
      const bDisc = new SeedDiscovery([], { peerExchange: true });
      const a = transport(creds['a']!, aDisc);
      const b = transport(creds['b']!, bDisc);
      const gotA = receiver(a);
      const gotB = receiver(b);
      a.start();
      b.start();
      // Stagger the second dial a little more each round, so some rounds replace a link that
      // has already carried frames.
      aDisc.learn({ addr: `127.0.0.1:${b.address.port}` });
      await sleep((round - 1) * 3);
      bDisc.learn({ addr: `127.0.0.1:${a.address.port}` });
      const [toA, toB] = await Promise.all([pump(b, 'a', 600), pump(a, 'b', 600)]);
      await until(`all frames (a got ${gotA.size}/${toA}, b got ${gotB.size}/${toB})`, 5000, () =>
        gotA.size === toA && gotB.size === toB ? true : undefined,
      );
      await until('one link each way', 3000, () => (a.links().size === 1 && b.links().size === 1 ? true : undefined));
      const la = a.links().get('b')!;
      const lb = b.links().get('a')!;
      assert.equal(la.dialed, !lb.dialed, 'both sides kept the same connection');
    });
  }
});
