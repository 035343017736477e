// HTTPS publish across a 3-relay mesh (relays as child processes, real sockets): a POST at one
// PoP reaches a WebSocket subscriber at another PoP byte-exact, and an Idempotency-Key repeated
// at a different PoP within the window publishes once, mesh-wide.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DevCluster } from '@fastpubsub/cli';
import { TENANT, WsClient, cluster, issueMeshToken, sleep, until } from './mesh-helpers.js';

const IDS = ['a', 'b', 'c'] as const;
const topology = {
  nodes: IDS.map((id) => ({ id })),
  links: [
    { a: 'a', b: 'b', delayMs: 5 },
    { a: 'b', b: 'c', delayMs: 5 },
    { a: 'a', b: 'c', delayMs: 5 },
  ],
};

let c: DevCluster;
let subB: WsClient;
let subC: WsClient;
const tokens = new Map<string, string>();

before(async () => {
  c = await cluster(topology, { mesh: { probeIntervalMs: 100 } });
  for (const id of IDS) tokens.set(id, await issueMeshToken(c, id));
  subB = await WsClient.open(c, 'b');
  subC = await WsClient.open(c, 'c');
  await subB.subscribe('m.http.#');
  await subC.subscribe('m.http.#');
  // Interest gossip reaches a before its publishes are routed to b and c: probe until both hear one.
  let n = 0;
  await until('a reaches the subscribers at b and c', 20_000, async () => {
    await post('a', `/v1/publish/${TENANT}/m.http.warm`, `warm-${n++}`);
    await sleep(150);
    return subB.received.length > 0 && subC.received.length > 0 ? true : undefined;
  });
  await sleep(300);
  subB.received.length = 0;
  subC.received.length = 0;
});

after(async () => {
  subB?.close();
  subC?.close();
  await c?.stop();
});

async function post(id: string, path: string, body: Uint8Array<ArrayBuffer> | string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(c.nodes.get(id)!.httpUrl + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.get(id)!}`, ...headers },
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('POST at PoP a → WebSocket subscriber at PoP c receives the body byte-exact', async () => {
  const payload = new Uint8Array(4096);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) % 256;
  const r = await post('a', `/v1/publish/${TENANT}/m.http.bytes`, payload, { 'content-type': 'application/octet-stream' });
  assert.equal(r.status, 202);
  const got = await until('delivery at c', 5000, () => subC.received.find((m) => m.channel === 'm.http.bytes'));
  assert.ok(got.payload.equals(Buffer.from(payload)), 'payload differs');
  await until('delivery at b', 5000, () => subB.received.find((m) => m.channel === 'm.http.bytes'));
});

test('the same Idempotency-Key at PoP a and then at PoP b publishes once at every PoP', async () => {
  const key = `mesh-${Date.now()}`;
  const first = await post('a', `/v1/publish/${TENANT}/m.http.idem`, 'exactly-once', { 'idempotency-key': key });
  assert.equal(first.status, 202);
  await until('first copy at b and c', 5000, () =>
    subB.received.some((m) => m.channel === 'm.http.idem') && subC.received.some((m) => m.channel === 'm.http.idem') ? true : undefined,
  );
  // The repeat at another PoP (and one at the third) answers the same id and is dropped everywhere.
  const second = await post('b', `/v1/publish/${TENANT}/m.http.idem`, 'exactly-once', { 'idempotency-key': key });
  const third = await post('c', `/v1/publish/${TENANT}/m.http.idem`, 'exactly-once', { 'idempotency-key': key });
  assert.equal(second.json.id, first.json.id);
  assert.equal(third.json.id, first.json.id);
  // A fresh key published afterwards from b is the barrier: once it has arrived, a repeat would have too.
  await post('b', `/v1/publish/${TENANT}/m.http.idem`, 'barrier');
  await until('barrier at b and c', 5000, () =>
    subB.received.some((m) => m.payload.toString() === 'barrier') && subC.received.some((m) => m.payload.toString() === 'barrier') ? true : undefined,
  );
  await sleep(200);
  for (const [name, s] of [['b', subB], ['c', subC]] as const) {
    const copies = s.received.filter((m) => m.payload.toString() === 'exactly-once');
    assert.equal(copies.length, 1, `${name} got ${copies.length} copies`);
  }
});
