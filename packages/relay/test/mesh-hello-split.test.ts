// A peer may send control frames right after HELLO; when one arrives split, its first part in
// the same read as HELLO, the link must go on with the bytes the HELLO reader already holds
// (a fresh decoder would start mid-frame and close the link with "unknown frame type").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fastpubsub/core';
import { QuicEndpoint } from '@fastpubsub/quic';
import { encodeHello, encodePresence, decodePresence, MeshFrameType, type Frame } from '@fastpubsub/wire';
import { createMeshPki, loadMeshCredentials, MESH_SERVER_NAME, type MeshCredentials } from '../src/mesh/link/pki.js';
import { SeedDiscovery } from '../src/mesh/link/discovery.js';
import { MESH_ALPN, MeshTransport } from '../src/mesh/link/transport.js';
import type { MeshLink } from '../src/mesh/link/link.js';
import { sleep, until } from './mesh-helpers.js';

let dir: string;
const creds: Record<string, MeshCredentials> = {};
let b: MeshTransport;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mesh-hello-split-'));
  await createMeshPki(join(dir, 'mesh'), ['a', 'b']);
  for (const id of ['a', 'b']) {
    creds[id] = await loadMeshCredentials({ caFile: join(dir, 'mesh', 'ca.pem'), certFile: join(dir, 'mesh', `${id}.pem`), keyFile: join(dir, 'mesh', `${id}.key`) }, id);
  }
  b = new MeshTransport({
    credentials: creds['b']!,
    host: '127.0.0.1',
    port: 0,
    discovery: new SeedDiscovery([], { peerExchange: false }),
    probeIntervalMs: 50,
    linkQueueBytes: 1 << 20,
    now: () => performance.now(),
    logger: createLogger({ level: 'silent' }),
    boot: Date.now(),
  });
  b.start();
});

after(async () => {
  await b?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a control frame split across the HELLO read arrives whole; the link stays up', async () => {
  const got: Frame<number>[] = [];
  b.on('link', (link: MeshLink) => link.on('control', (f: Frame<number>) => got.push(f)));
  const ep = new QuicEndpoint({ host: '127.0.0.1', closeTimeoutMs: 200 });
  try {
    const conn = await ep.connect({ host: '127.0.0.1', port: b.address.port, serverName: MESH_SERVER_NAME, alpn: [MESH_ALPN], caPem: creds['a']!.caPem, certPem: creds['a']!.certPem, keyPem: creds['a']!.keyPem });
    const control = conn.openBidiStream();
    const members = Array.from({ length: 200 }, (_, i) => ['t1', 'room.1', `member-${i}`] as [string, string, string]);
    const frame = encodePresence({ k: 'f', o: 'a', e: 'epoch1', s: 1, p: 0, l: true, m: members });
    const cut = Math.floor(frame.length / 2);
    const hello = encodeHello({ id: 'a', boot: 1 });
    const first = new Uint8Array(hello.length + cut);
    first.set(hello);
    first.set(frame.subarray(0, cut), hello.length);
    control.write(first);
    await sleep(200); // the HELLO read completes with half a frame in its decoder
    control.write(frame.subarray(cut));
    const f = await until('the split frame', 5000, () => got.find((x) => x.type === MeshFrameType.PRESENCE));
    const p = decodePresence(f);
    assert.equal(p.k, 'f');
    assert.equal(p.k === 'f' ? p.m.length : 0, 200);
    assert.equal(b.links().get('a')?.isClosed, false);
  } finally {
    await ep.close();
  }
});
