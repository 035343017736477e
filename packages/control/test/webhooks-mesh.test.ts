// Webhooks across a 3-PoP mesh following one control plane (real relays, real QUIC links,
// real HTTP): a hook registered in the control plane is known at every PoP; a POST at one PoP
// reaches a WebSocket subscriber at another byte-exact; and an outbound hook gets exactly one
// POST per message wherever the message was published (its origin PoP delivers it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWs, createMeshPki, http, startRelay, waitFor, type Client, type Relay } from '@fastpubsub/testkit/relay';
import type { Control } from '@fastpubsub/control';
import { ControlEnv, MASTER_TOKEN, POP_TOKEN, getToken, grant } from './harness.js';
import { createHook, postHook, Receiver, standardSignature, nowSeconds, waitForInbound } from './webhook-helpers.js';

const env = new ControlEnv();
const relays: Relay[] = [];
let control: Control;
let token: string;
let target: Receiver | undefined;
after(async () => {
  await target?.close();
  await env.cleanup();
});

before(async () => {
  control = await env.control();
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'mesh' } })).status, 201);
  const ids = ['w1', 'w2', 'w3'];
  const pki = await createMeshPki(await env.dir(), ids);
  for (const id of ids) {
    const r = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      masterToken: MASTER_TOKEN,
      dataDir: await env.dir(),
      logLevel: 'silent',
      control: { urls: [control.url], token: POP_TOKEN, popId: `pop-${id}`, heartbeatMs: 300, usageReportMs: 500 },
      mesh: { caFile: pki.caCert, certFile: pki.relays[id]!.cert, keyFile: pki.relays[id]!.key, listen: { host: '127.0.0.1', port: 0 } },
    });
    env.relays.push(r);
    relays.push(r);
  }
  await waitFor(async () => {
    for (const r of relays) {
      const links = ((await http(r.httpUrl, 'GET', '/v1/mesh/links')).json as { links: unknown[] }).links;
      if (links.length < 2) return false;
    }
    return true;
  }, 15_000, 'a full mesh of 3 PoPs');
  token = await getToken(control.url, { tenant_grants: [grant('mesh')] });
});

test('an inbound hook POSTed at one PoP reaches a WebSocket subscriber at another PoP byte-exact', async () => {
  const hook = await createHook(control.url, 'mesh', 'inbound', { scheme: 'standard', channel: 'events.in' });
  for (const r of relays) await waitForInbound(r.httpUrl, hook.id);
  const sub = await env.connect(relays[1]!, token);
  await sub.sub('mesh', 'events.#');
  const body = Buffer.from(JSON.stringify({ event: 'deploy', sha: 'ab12', emoji: '🚀' }));
  let n = 0;
  // Interest gossip takes a moment: post (each with a new webhook-id) until the remote subscriber has one.
  let got: Buffer | undefined;
  await waitFor(async () => {
    const id = `msg_mesh_${n++}`;
    const ts = nowSeconds();
    const res = await postHook(relays[0]!.httpUrl, hook.id, body, { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': standardSignature(hook.secret!, id, ts, body) });
    assert.equal(res.status, 202);
    await res.text();
    try {
      got = (await sub.nextDelivery(300)).payload;
      return true;
    } catch {
      return false;
    }
  }, 10_000, 'the hook body at the remote PoP');
  assert.deepEqual(got, body);
});

test('3 PoPs, one outbound hook: exactly one POST per message, wherever it was published', async () => {
  target = await new Receiver(() => 200).start();
  await createHook(control.url, 'mesh', 'outbound', { pattern: 'orders.#', url: target.url });
  const marker = await createHook(control.url, 'mesh', 'inbound', { scheme: 'none', channel: 'marker.x' });
  for (const r of relays) await waitForInbound(r.httpUrl, marker.id);
  // A subscriber at every PoP, so every message also crosses the mesh to the other two.
  const subs: Client[] = [];
  for (const r of relays) {
    const s = await env.connect(r, token);
    await s.sub('mesh', 'orders.#');
    await s.sub('mesh', 'warm.#');
    subs.push(s);
  }
  // Until the mesh carries w1's publishes to w2 (interest gossip), on a channel no hook matches.
  const warm = await connectWs(relays[0]!.wsUrl, token);
  env.clients.push(warm);
  await waitFor(async () => {
    warm.publish('mesh', 'warm.x', 'w');
    try {
      await subs[1]!.nextDelivery(200);
      return true;
    } catch {
      return false;
    }
  }, 10_000, 'the mesh carrying w1 → w2');
  await new Promise((r) => setTimeout(r, 300));
  while (subs[1]!.pending > 0) await subs[1]!.next(100);
  const published = new Set<string>();
  const perPop = 10;
  for (const [i, r] of relays.entries()) {
    for (let k = 0; k < perPop; k++) {
      const res = await fetch(`${r.httpUrl}/v1/publish/mesh/orders.p${i}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: `order ${i}-${k}` });
      assert.equal(res.status, 202);
      published.add(`msg_${((await res.json()) as { id: string }).id}`);
    }
  }
  // And over WebSocket at one PoP.
  const ws = await connectWs(relays[2]!.wsUrl, token);
  env.clients.push(ws);
  for (let k = 0; k < perPop; k++) ws.publish('mesh', 'orders.ws', `ws ${k}`);
  const total = relays.length * perPop + perPop;
  await waitFor(() => target!.received.length >= total, 10_000, `${total} POSTs`);
  await new Promise((r) => setTimeout(r, 1000)); // any duplicate would arrive by now
  const ids = target.received.map((r) => String(r.headers['webhook-id']));
  assert.equal(ids.length, total, `${ids.length} POSTs for ${total} messages`);
  assert.equal(new Set(ids).size, total, 'no message POSTed twice');
  for (const id of published) assert.ok(ids.includes(id), `HTTPS publish ${id} delivered`);
  // The messages did cross the mesh: w2's subscriber got every one published at w1.
  let fromW1 = 0;
  while (subs[1]!.pending > 0) if ((await subs[1]!.nextDelivery(100)).channel === 'orders.p0') fromW1++;
  assert.equal(fromW1, perPop);
  const texts = target.received.map((r) => (JSON.parse(r.body.toString()) as { data: { text: string } }).data.text).sort();
  assert.equal(texts.filter((t) => t.startsWith('ws ')).length, perPop);
});
