// Presence over the QUIC edge in a 3-relay mesh (relays as child processes, real QUIC and
// WebSocket sockets): an SDK client over QUIC at Tokyo (subscribe with presence + onPresence)
// is visible to a WebSocket watcher at Frankfurt and sees Frankfurt's WebSocket member join and
// leave; client.presence() works from the QUIC client; the raw PRESENCE frames answer OK, ERR
// (with the request id) and PRESENCE_INFO STATE; a join storm over QUIC is rate-limited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import type { DevCluster } from '@fastpubsub/cli';
import { connect, QuicEdgeClient, type PresenceEvent } from '@fastpubsub/client/quic';
import { PresenceInfoKind, PresenceOp, type PresenceInfoFrame } from '@fastpubsub/wire';
import { TENANT, cluster, issueMeshToken, until } from './mesh-helpers.js';

const IDS = ['tokyo', 'frankfurt', 'virginia'] as const;
const topology = {
  nodes: IDS.map((id) => ({ id })),
  links: [
    { a: 'tokyo', b: 'frankfurt', delayMs: 20 },
    { a: 'frankfurt', b: 'virginia', delayMs: 10 },
    { a: 'tokyo', b: 'virginia', delayMs: 15 },
  ],
};

let c: DevCluster;
const cleanups: Array<() => unknown> = [];

before(async () => {
  c = await cluster(topology, { mesh: { probeIntervalMs: 100 } });
});

after(async () => {
  for (const f of cleanups.reverse()) await f();
  await c?.stop();
});

function quicOf(id: string): { port: number; caPem: string } {
  const n = c.nodes.get(id)!;
  return { port: Number(n.quic.split(':').pop()), caPem: readFileSync(n.quicCaFile, 'utf8') };
}

async function openWs(id: string): Promise<{ ws: WebSocket; texts: string[] }> {
  const token = await issueMeshToken(c, id);
  const ws = new WebSocket(c.nodes.get(id)!.wsUrl, ['llps.v1', `at.${token}`], { perMessageDeflate: false, handshakeTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const texts: string[] = [];
  ws.on('message', (d: WebSocket.RawData, binary: boolean) => {
    if (!binary) texts.push((d as Buffer).toString());
  });
  cleanups.push(() => ws.terminate());
  return { ws, texts };
}

async function countAt(id: string, channel: string): Promise<number> {
  const token = await issueMeshToken(c, id);
  const res = await fetch(`${c.nodes.get(id)!.httpUrl}/v1/presence/${TENANT}/${channel}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { count: number }).count;
}

const eventsOf = (texts: string[], channel: string): Array<Record<string, unknown>> =>
  texts.filter((t) => t.startsWith(`PRESENCE:EVENT:${TENANT}:${channel} `)).map((t) => JSON.parse(t.slice(t.indexOf(' ') + 1)) as Record<string, unknown>);

test('QUIC member at Tokyo visible to a WebSocket watcher at Frankfurt, and the other way round', async (t) => {
  // The mesh is up once a WebSocket member at Virginia is counted at Tokyo and Frankfurt.
  const v = await openWs('virginia');
  v.ws.send(`PRESENCE:JOIN:${TENANT}:m.warm {"clientId":"warm"}`);
  await until('mesh presence flowing', 30_000, async () => ((await countAt('tokyo', 'm.warm')) === 1 && (await countAt('frankfurt', 'm.warm')) === 1 ? true : undefined), 200);

  const f = await openWs('frankfurt');
  f.ws.send(`PRESENCE:WATCH:${TENANT}:m.q`);
  await until('OK:WATCH', 5000, () => (f.texts.includes(`OK:PRESENCE:WATCH:${TENANT}:m.q`) ? true : undefined), 10);

  const client = await connect({ endpoint: c.nodes.get('tokyo')!.httpUrl, token: await issueMeshToken(c, 'tokyo'), quic: quicOf('tokyo') });
  cleanups.push(() => client.close());
  const seen: PresenceEvent[] = [];
  const joinedAt = performance.now();
  const sub = await client.subscribe(TENANT, 'm.q', { presence: { clientId: 'qalice', clientData: { via: 'quic' } }, onPresence: (e) => seen.push(e) });
  await until('qalice joins at frankfurt', 3000, () => (eventsOf(f.texts, 'm.q').some((e) => e.type === 'join' && e.clientId === 'qalice') ? true : undefined), 5);
  const visibleMs = performance.now() - joinedAt;
  t.diagnostic(`QUIC join at tokyo → WebSocket event at frankfurt: ${visibleMs.toFixed(0)} ms`);
  assert.ok(visibleMs < 1000, `visible after ${visibleMs.toFixed(0)} ms`);
  assert.deepEqual(eventsOf(f.texts, 'm.q').find((e) => e.clientId === 'qalice')?.data, { via: 'quic' });

  // A WebSocket member at Frankfurt: the QUIC client's onPresence sees it join and leave.
  f.ws.send(`PRESENCE:JOIN:${TENANT}:m.q {"clientId":"wbob"}`);
  await until('wbob join over QUIC', 3000, () => (seen.some((e) => e.type === 'join' && e.clientId === 'wbob') ? true : undefined), 5);
  const page = await client.presence(TENANT, 'm.q');
  assert.equal(page.count, 2);
  assert.deepEqual(page.members.map((m) => m.clientId).sort(), ['qalice', 'wbob']);
  f.ws.send(`PRESENCE:LEAVE:${TENANT}:m.q`);
  await until('wbob leave over QUIC', 3000, () => (seen.some((e) => e.type === 'leave' && e.clientId === 'wbob') ? true : undefined), 5);

  // Unsubscribing leaves: gone at Frankfurt and Virginia.
  await sub.unsubscribe();
  await until('qalice leaves at frankfurt', 3000, () => (eventsOf(f.texts, 'm.q').some((e) => e.type === 'leave' && e.clientId === 'qalice') ? true : undefined), 5);
  await until('count 0 at virginia', 3000, async () => ((await countAt('virginia', 'm.q')) === 0 ? true : undefined), 50);
});

test('raw PRESENCE frames: OK, ERR with the request id, STATE pages; a join storm is rate-limited', async () => {
  const infos: PresenceInfoFrame[] = [];
  const errs: Array<{ code: string; detail: string }> = [];
  const q = await QuicEdgeClient.connect({
    host: '127.0.0.1',
    ...quicOf('frankfurt'),
    token: await issueMeshToken(c, 'frankfurt'),
    onPresence: (i) => infos.push(i),
    onServerError: (code, detail) => errs.push({ code, detail }),
  });
  cleanups.push(() => q.closed());
  q.presence(PresenceOp.JOIN, TENANT, 'm.raw', '{"clientId":"r1","data":{"n":1}}');
  const get = q.presence(PresenceOp.GET, TENANT, 'm.raw', '{"limit":10}');
  const state = await until('STATE', 3000, () => infos.find((i) => i.id === get && i.kind === PresenceInfoKind.STATE), 5);
  assert.deepEqual(JSON.parse(state.body), { count: 1, members: [{ clientId: 'r1', data: { n: 1 } }], next: null });

  q.presence(PresenceOp.JOIN, TENANT, 'x.forbidden', '');
  q.presence(PresenceOp.JOIN, TENANT, 'm.raw', '{"clientId":"r1","data":"' + 'x'.repeat(1100) + '"}');
  q.presence(PresenceOp.GET, TENANT, 'm.raw', '{"limit":0}');
  await until('three refusals', 3000, () => (errs.length >= 3 ? true : undefined), 5);
  assert.deepEqual(errs.slice(0, 3), [
    { code: 'permission_denied', detail: `PRESENCE:JOIN:${TENANT}:x.forbidden` },
    { code: 'payload_too_large', detail: `PRESENCE:JOIN:${TENANT}:m.raw` },
    { code: 'bad_command', detail: `PRESENCE:GET:${TENANT}:m.raw` },
  ]);

  // 200 JOINs at once: the burst (50) passes, the rest are refused; nothing else is disturbed.
  errs.length = 0;
  for (let i = 0; i < 200; i++) q.presence(PresenceOp.JOIN, TENANT, 'm.storm', `{"clientId":"s${i % 5}"}`);
  const lastGet = q.presence(PresenceOp.GET, TENANT, 'm.storm', '');
  const after = await until('GET after the storm', 5000, () => infos.find((i) => i.id === lastGet), 5);
  const limited = errs.filter((e) => e.code === 'rate_limited' && e.detail === `PRESENCE:JOIN:${TENANT}:m.storm`).length;
  assert.ok(limited >= 100 && limited <= 160, `${limited} of 200 JOINs refused`);
  assert.equal((JSON.parse(after.body) as { count: number }).count, 1, 'one connection holds one client id per channel');
});
