// The main job end to end: `fastpubsub dev`'s cluster with its embedded control plane. A token
// issued through one relay (forwarded to the control plane) works at another; a message crosses
// the mesh; a revocation made through one relay is refused at the other.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, type Client } from '@fastpubsub/client/node';
import { startDevCluster, type DevCluster } from '../src/commands/dev-cluster.js';

const topology = {
  nodes: [{ id: 'a' }, { id: 'b' }],
  links: [{ a: 'a', b: 'b', delayMs: 5 }],
};

let cluster: DevCluster;
const clients: Client[] = [];

before(async () => {
  cluster = await startDevCluster(topology, { control: true, mesh: { probeIntervalMs: 100 } });
});
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await cluster?.stop();
});

async function rest(url: string, method: string, bearer: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The HTTP status of a WebSocket upgrade with this token: 101 accepted, 401 refused. */
function upgradeStatus(httpUrl: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${httpUrl}/ws`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-protocol': `llps.v1,at.${token}`,
      },
      timeout: 5000,
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('upgrade timed out')));
    req.on('error', reject);
    req.end();
  });
}

test('dev: control plane tokens work across relays, messages cross the mesh, revocation reaches every relay', async () => {
  const control = cluster.control;
  assert.ok(control, 'dev started a control plane');
  const a = cluster.nodes.get('a')!;
  const b = cluster.nodes.get('b')!;
  const issued = await rest(`${a.httpUrl}/v1/get-token`, 'POST', control.tenantMasterToken, {
    right: {
      tenant_grants: [{ tenant_ids: [control.tenant], allow_channels_pub: ['chat.#'], allow_channels_sub: ['chat.#'] }],
      expires_at: new Date(Date.now() + 600_000).toISOString(),
    },
    created_by: 'dev-control test',
  });
  assert.equal(issued.status, 200, JSON.stringify(issued.json));
  const token = String(issued.json['token']);
  assert.match(token, /^AT_/);

  const sub = await connect({ endpoint: b.httpUrl, token, ping: false });
  clients.push(sub);
  const subscription = await sub.subscribe(control.tenant, 'chat.#');
  const pub = await connect({ endpoint: a.httpUrl, token, ping: false });
  clients.push(pub);
  // Interest gossip needs a moment to reach a: publish until the first copy arrives (bounded).
  const it = subscription[Symbol.asyncIterator]();
  const deadline = Date.now() + 10_000;
  let got: string | undefined;
  const pending = it.next(); // one outstanding next(); publishes repeat until it resolves
  while (got === undefined && Date.now() < deadline) {
    pub.publish(control.tenant, 'chat.room1', 'hello from a');
    const next = await Promise.race([pending, new Promise<undefined>((r) => setTimeout(r, 300))]);
    if (next !== undefined && next.done !== true) got = Buffer.from(next.value.payload).toString();
  }
  assert.equal(got, 'hello from a');

  const revoked = await rest(`${b.httpUrl}/v1/revoke-token`, 'DELETE', control.tenantMasterToken, { token });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
  const until = Date.now() + 5000;
  assert.equal(await upgradeStatus(b.httpUrl, 'AT_0_0'), 401, 'the probe itself tells a refusal');
  let status = await upgradeStatus(a.httpUrl, token);
  while (status !== 401 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    status = await upgradeStatus(a.httpUrl, token);
  }
  assert.equal(status, 401, 'a revoked token is refused at the other relay');
});
