// Mesh links in one process over real UDP on loopback: mutual TLS against the mesh CA (a relay
// with a certificate from another CA, or none, is refused), identity from the certificate,
// one link per pair when both sides dial, probes measuring RTT, and the mesh PKI files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createLogger } from '@fastpubsub/core';
import { QuicEndpoint, QuicError } from '@fastpubsub/quic';
import { createMeshPki, loadMeshCredentials, relayIdOf, type MeshCredentials } from '../src/mesh/link/pki.js';
import { SeedDiscovery } from '../src/mesh/link/discovery.js';
import { MESH_ALPN, MeshTransport } from '../src/mesh/link/transport.js';
import { MESH_SERVER_NAME } from '../src/mesh/link/pki.js';
import { sleep, until } from './mesh-helpers.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
const creds: Record<string, MeshCredentials> = {};
const transports: MeshTransport[] = [];

async function load(pkiDir: string, id: string): Promise<MeshCredentials> {
  return loadMeshCredentials({ caFile: join(pkiDir, 'ca.pem'), certFile: join(pkiDir, `${id}.pem`), keyFile: join(pkiDir, `${id}.key`) }, id);
}

function transport(c: MeshCredentials, seeds: string[] = []): MeshTransport {
  const t = new MeshTransport({
    credentials: c,
    host: '127.0.0.1',
    port: 0,
    discovery: new SeedDiscovery(seeds, { peerExchange: false }),
    probeIntervalMs: 50,
    linkQueueBytes: 1 << 20,
    now: () => performance.now(),
    logger,
    boot: Date.now(),
  });
  t.start();
  transports.push(t);
  return t;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mesh-link-'));
  await createMeshPki(join(dir, 'mesh'), ['a', 'b']);
  await createMeshPki(join(dir, 'other'), ['a', 'x']);
  creds['a'] = await load(join(dir, 'mesh'), 'a');
  creds['b'] = await load(join(dir, 'mesh'), 'b');
  creds['rogue-a'] = await load(join(dir, 'other'), 'a');
});

after(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('mesh pki', () => {
  it('issues relay certificates naming the relay, from the CA, with private keys', async () => {
    const cert = new X509Certificate(creds['a']!.certPem);
    assert.equal(relayIdOf(cert), 'a');
    assert.match(cert.subjectAltName ?? '', new RegExp(`DNS:${MESH_SERVER_NAME}`));
    assert.equal((await stat(join(dir, 'mesh', 'a.key'))).mode & 0o777, 0o600);
    await assert.rejects(load(join(dir, 'mesh'), 'nope'));
    await assert.rejects(loadMeshCredentials({ caFile: join(dir, 'other', 'ca.pem'), certFile: join(dir, 'mesh', 'a.pem'), keyFile: join(dir, 'mesh', 'a.key') }), /not issued/);
  });
});

describe('mesh links', () => {
  it('two relays that dial each other end up with one link each way, identified by certificate, measuring RTT', async () => {
    const a = transport(creds['a']!);
    const b = transport(creds['b']!, [`127.0.0.1:${a.address.port}`]);
    // a learns b's address only now, so both dial: the duplicate rule must leave one link.
    const a2 = transport(creds['a']!, [`127.0.0.1:${b.address.port}`]);
    await until('b sees a', 5000, () => (b.links().get('a') !== undefined ? true : undefined));
    const link = await until('probe answers', 5000, () => {
      const l = b.links().get('a');
      return l !== undefined && l.health.metrics() !== undefined ? l : undefined;
    });
    assert.equal(link.peer, 'a');
    assert.ok(link.health.metrics()!.rttMs < 50);
    assert.equal(b.links().size, 1);
    void a2;
  });

  it('refuses a relay whose certificate comes from another CA, and a client without a certificate', async () => {
    const b = transport(creds['b']!);
    const rogue = transport(creds['rogue-a']!, [`127.0.0.1:${b.address.port}`]);
    await until('handshake refused', 5000, () => (b.refused > 0 ? true : undefined));
    await sleep(300);
    assert.equal(b.links().size, 0);
    assert.equal(rogue.links().size, 0);

    const bare = new QuicEndpoint({ host: '127.0.0.1', closeTimeoutMs: 200 });
    try {
      const refusedBefore = b.refused;
      let connected = false;
      try {
        const c = await bare.connect({ host: '127.0.0.1', port: b.address.port, serverName: MESH_SERVER_NAME, alpn: [MESH_ALPN], caPem: creds['b']!.caPem });
        connected = true;
        const info = await Promise.race([c.closed, sleep(3000).then(() => undefined)]);
        assert.ok(info !== undefined, 'the mesh must close a connection without a client certificate');
      } catch (err) {
        assert.ok(err instanceof QuicError);
      }
      await until('refusal counted', 3000, () => (b.refused > refusedBefore ? true : undefined));
      assert.equal(b.links().size, 0, `no link for a certificate-less client (connected=${String(connected)})`);
    } finally {
      await bare.close();
    }
  });
});
