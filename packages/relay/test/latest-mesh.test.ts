// Latest mode across the mesh, with `fastpubsub dev`'s relays and embedded control plane: the
// tenant's config makes channel m.pos latest-mode; it is pushed to both PoPs. A subscriber at b
// with a plain SUB gets m.pos as datagrams (b applies the tenant default), and while the a→b
// link is a bottleneck, a's link queue keeps only the newest pending m.pos frame: b receives the
// newest message, not the backlog, and a counts the replaced frames per link.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { QuicEdgeClient } from '@fastpubsub/client/quic';
import type { DevCluster } from '@fastpubsub/cli';
import { cluster, metricValue, sleep, waitFor } from './mesh-helpers.js';

const topology = { nodes: [{ id: 'a' }, { id: 'b' }], links: [{ a: 'a', b: 'b', delayMs: 2 }] };
let c: DevCluster;
const clients: QuicEdgeClient[] = [];

before(async () => {
  c = await cluster(topology, { control: true, mesh: { probeIntervalMs: 200 } });
});
after(async () => {
  for (const q of clients) q.close();
  await c?.stop();
});

async function rest(url: string, method: string, bearer: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function quic(id: string, token: string): Promise<QuicEdgeClient> {
  const n = c.nodes.get(id)!;
  const [host, port] = n.quic.split(':') as [string, string];
  const q = await QuicEdgeClient.connect({ host, port: Number(port), token, caPem: readFileSync(n.quicCaFile, 'utf8') });
  clients.push(q);
  return q;
}

const payload = (seq: number, size: number): Buffer => {
  const b = Buffer.alloc(size, 3);
  b.writeUInt32BE(seq, 0);
  return b;
};

test('mesh: a latest channel (tenant config) is coalesced on a congested link and sent as datagrams at the far PoP', async () => {
  const control = c.control!;
  const a = c.nodes.get('a')!;
  const set = await rest(`${control.url}/v1/tenants/${control.tenant}/limits`, 'PUT', control.operatorToken, { channels: { 'm.pos': { delivery: 'latest' } } });
  assert.equal(set.status, 200, JSON.stringify(set.json));
  const issued = await rest(`${a.httpUrl}/v1/get-token`, 'POST', control.tenantMasterToken, {
    right: { tenant_grants: [{ tenant_ids: [control.tenant], allow_channels_pub: ['m.#'], allow_channels_sub: ['m.#'] }], expires_at: new Date(Date.now() + 600_000).toISOString() },
    created_by: 'latest-mesh test',
  });
  assert.equal(issued.status, 200, JSON.stringify(issued.json));
  const token = String(issued.json['token']);
  const subConn = await quic('b', token);
  const pub = await quic('a', token);
  const sub = subConn.subscribe(control.tenant, 'm.pos'); // a plain SUB: the tenant default decides
  let received = 0;
  let datagrams = 0;
  let newest = 0;
  sub.onMessage = (m) => {
    received++;
    if (m.datagram) datagrams++;
    newest = Math.max(newest, Buffer.from(m.data).readUInt32BE(0));
  };
  await sub.ready;
  // Interest needs a moment to reach a; small states (datagram-sized) until one arrives.
  let seq = 0;
  await waitFor(async () => {
    pub.publish(control.tenant, 'm.pos', payload(++seq, 100));
    await sleep(50);
    return received > 0;
  }, 15_000, 'a first m.pos message across the mesh');
  assert.ok(datagrams > 0, 'b sends the latest channel as datagrams to a plain subscription');

  // A 400 KB/s bottleneck a→b and 8 MB of 16 KiB states: a's link stream pushes back and the queue coalesces.
  c.emulator.setLink('a', 'b', { rateBytesPerSec: 400_000, queueBytes: 1024 * 1024 });
  const first = seq + 1;
  const N = 500;
  for (let i = 0; i < N; i++) {
    pub.publish(control.tenant, 'm.pos', payload(++seq, 16 * 1024));
    if (i % 25 === 0) await pub.drained();
  }
  const last = seq;
  const before = received;
  c.emulator.setLink('a', 'b', { rateBytesPerSec: 0 });
  await waitFor(() => newest === last, 30_000, `the newest state (${last}) at b; got up to ${newest}`);
  await sleep(200);
  const got = received - before;
  assert.ok(got < N / 2, `b received ${got} of ${N} states from seq ${first}: a backlog crossed the link`);
  const text = await (await fetch(`${a.httpUrl}/metrics`)).text();
  const superseded = metricValue(text, 'fastpubsub_mesh_link_queue_superseded_total', { peer: 'b' }) ?? 0;
  assert.ok(superseded > 0, `a counted superseded link frames: ${superseded}`);
});
