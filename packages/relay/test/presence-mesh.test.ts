// Presence across a 3-relay mesh (relays as child processes, real sockets): a member joining at
// Tokyo is visible at Frankfurt (REST and watch events) within 1 s; a client id present at two
// PoPs is one member; when Tokyo is killed, its members are gone at Frankfurt within
// 2 × the presence heartbeat (1 s).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { DevCluster } from '@fastpubsub/cli';
import { TENANT, cluster, issueMeshToken, sleep, until } from './mesh-helpers.js';

const HEARTBEAT_MS = 1000;
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
const sockets: WebSocket[] = [];

before(async () => {
  c = await cluster(topology, { mesh: { probeIntervalMs: 100 } });
});

after(async () => {
  for (const s of sockets) s.terminate();
  await c?.stop();
});

/** A raw WebSocket with every text line recorded. */
async function open(id: string): Promise<{ ws: WebSocket; texts: string[] }> {
  const token = await issueMeshToken(c, id);
  const ws = new WebSocket(c.nodes.get(id)!.wsUrl, ['llps.v1', `at.${token}`], { perMessageDeflate: false, handshakeTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const texts: string[] = [];
  ws.on('message', (d: WebSocket.RawData, binary: boolean) => {
    if (!binary) texts.push(Buffer.isBuffer(d) ? d.toString() : Buffer.concat(d as Buffer[]).toString());
  });
  sockets.push(ws);
  return { ws, texts };
}

async function presenceAt(id: string, channel: string): Promise<{ count: number; members: Array<{ clientId: string; data?: unknown }> }> {
  const token = await issueMeshToken(c, id);
  const res = await fetch(`${c.nodes.get(id)!.httpUrl}/v1/presence/${TENANT}/${channel}?limit=1000`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  return (await res.json()) as { count: number; members: Array<{ clientId: string; data?: unknown }> };
}

test('join at Tokyo is visible at Frankfurt within 1 s; kill Tokyo → gone at Frankfurt within 2 × heartbeat', async (t) => {
  // Wait for the mesh: links up and presence heartbeats flowing (a member at Virginia seen at Frankfurt).
  const v = await open('virginia');
  v.ws.send(`PRESENCE:JOIN:${TENANT}:m.room {"clientId":"victor"}`);
  await until('virginia member visible at frankfurt', 30_000, async () => ((await presenceAt('frankfurt', 'm.room')).count === 1 ? true : undefined), 200);
  await until('tokyo sees virginia', 10_000, async () => ((await presenceAt('tokyo', 'm.room')).count === 1 ? true : undefined), 200);

  const f = await open('frankfurt');
  f.ws.send(`PRESENCE:WATCH:${TENANT}:m.room`);
  await until('OK:WATCH', 5000, () => (f.texts.includes(`OK:PRESENCE:WATCH:${TENANT}:m.room`) ? true : undefined), 10);

  const t1 = await open('tokyo');
  const t2 = await open('tokyo');
  const joinedAt = performance.now();
  t1.ws.send(`PRESENCE:JOIN:${TENANT}:m.room {"clientId":"kenji","data":{"city":"Tokyo"}}`);
  t2.ws.send(`PRESENCE:JOIN:${TENANT}:m.room {"clientId":"yuki"}`);
  const events = (): Array<Record<string, unknown>> =>
    f.texts.filter((t) => t.startsWith(`PRESENCE:EVENT:${TENANT}:m.room `)).map((t) => JSON.parse(t.slice(t.indexOf(' ') + 1)) as Record<string, unknown>);
  await until('join events at frankfurt', 3000, () => (events().filter((e) => e.type === 'join').length >= 2 ? true : undefined), 5);
  const visibleMs = performance.now() - joinedAt;
  t.diagnostic(`join at tokyo → event at frankfurt: ${visibleMs.toFixed(0)} ms`);
  assert.ok(visibleMs < 1000, `visible at frankfurt after ${visibleMs.toFixed(0)} ms`);
  const kenji = events().find((e) => e.clientId === 'kenji');
  assert.deepEqual(kenji?.data, { city: 'Tokyo' });
  const view = await presenceAt('frankfurt', 'm.room');
  assert.equal(view.count, 3);
  assert.deepEqual(view.members.map((m) => m.clientId).sort(), ['kenji', 'victor', 'yuki']);

  // The same client id at Frankfurt too: still one member; it stays when Tokyo dies.
  f.ws.send(`PRESENCE:JOIN:${TENANT}:m.room {"clientId":"yuki"}`);
  await until('OK:JOIN at frankfurt', 5000, () => (f.texts.includes(`OK:PRESENCE:JOIN:${TENANT}:m.room`) ? true : undefined), 10);
  await sleep(300);
  assert.equal((await presenceAt('virginia', 'm.room')).count, 3);

  c.kill('tokyo');
  const killedAt = performance.now();
  await until('kenji gone at frankfurt', 2 * HEARTBEAT_MS + 1000, async () => ((await presenceAt('frankfurt', 'm.room')).count === 2 ? true : undefined), 20);
  const goneMs = performance.now() - killedAt;
  t.diagnostic(`tokyo killed → its members gone at frankfurt: ${goneMs.toFixed(0)} ms`);
  assert.ok(goneMs <= 2 * HEARTBEAT_MS, `gone after ${goneMs.toFixed(0)} ms, more than 2 × ${HEARTBEAT_MS} ms`);
  const after = await presenceAt('frankfurt', 'm.room');
  assert.deepEqual(after.members.map((m) => m.clientId).sort(), ['victor', 'yuki']);
  assert.ok(events().some((e) => e.type === 'leave' && e.clientId === 'kenji'), 'a leave event for kenji');
  assert.ok(!events().some((e) => e.type === 'leave' && e.clientId === 'yuki'), 'yuki never left: present at frankfurt');
  await until('kenji gone at virginia', 2 * HEARTBEAT_MS, async () => ((await presenceAt('virginia', 'm.room')).count === 2 ? true : undefined), 50);
});
