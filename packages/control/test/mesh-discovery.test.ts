// PoPs register their mesh endpoint with the control plane and the mesh dials the registry:
// two relays with no seeds find each other and deliver across the mesh.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createMeshPki, startRelay } from '@fastpubsub/testkit/relay';
import { connectWs, http, waitFor, type Relay } from '@fastpubsub/testkit/relay';
import { ControlEnv, MASTER_TOKEN, POP_TOKEN, getToken, grant } from './harness.js';

const env = new ControlEnv();
afterEach(() => env.cleanup());

test('two relays with no mesh seeds discover each other through the PoP registry and deliver across the mesh', async () => {
  const control = await env.control();
  const pki = await createMeshPki(await env.dir(), ['r1', 'r2']);
  const relays: Relay[] = [];
  for (const id of ['r1', 'r2']) {
    const r = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      masterToken: MASTER_TOKEN,
      dataDir: await env.dir(),
      logLevel: 'silent',
      control: { urls: [control.url], token: POP_TOKEN, popId: `pop-${id}`, heartbeatMs: 300 },
      mesh: { caFile: pki.caCert, certFile: pki.relays[id]!.cert, keyFile: pki.relays[id]!.key, listen: { host: '127.0.0.1', port: 0 } },
    });
    env.relays.push(r);
    relays.push(r);
  }
  const pops = async (): Promise<Array<{ id: string; mesh?: string; meshId?: string }>> =>
    ((await http(control.url, 'GET', '/v1/pops')).json as { pops: Array<{ id: string; mesh?: string; meshId?: string }> }).pops;
  await waitFor(async () => (await pops()).filter((p) => p.mesh !== undefined && p.meshId !== undefined).length === 2, 3000, 'both mesh endpoints registered');
  await waitFor(async () => {
    const links = ((await http(relays[0]!.httpUrl, 'GET', '/v1/mesh/links')).json as { links: Array<{ peer?: string; id?: string }> }).links;
    return links.length > 0;
  }, 10_000, 'a mesh link r1 <-> r2 from the registry');

  const token = await getToken(control.url, { tenant_grants: [grant('t1', ['a.#'])] });
  const sub = await env.connect(relays[1]!, token);
  await sub.sub('t1', 'a.#');
  const pub = await connectWs(relays[0]!.wsUrl, token);
  env.clients.push(pub);
  // Interest gossip takes a moment: publish until the remote subscriber sees one.
  let got = '';
  await waitFor(async () => {
    pub.publish('t1', 'a.x', 'across');
    try {
      got = (await sub.nextDelivery(200)).payload.toString();
      return true;
    } catch {
      return false;
    }
  }, 10_000, 'delivery across the mesh');
  assert.equal(got, 'across');
});
