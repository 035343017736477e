// Every PoP publishes its health, links and routes on the system tenant; the control plane
// hands out a read-only token for it. A Node subscriber at one PoP, holding that token, gets
// the whole mesh's state (the other PoPs' state crosses the mesh like any publish), sees a
// killed PoP's links go down within 3 s, and cannot read another tenant with the map token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from '@fastpubsub/client/node';
import type { LinkStateMessage, PopHealthMessage, RouteStateMessage } from '@fastpubsub/protocol';
import { cluster, until } from './mesh-helpers.js';

const TOPOLOGY = JSON.parse(readFileSync(new URL('../../../topologies/default.json', import.meta.url), 'utf8')) as unknown;

test('network state: health with location, links with RTT, overlay routes; a killed PoP shows down', { timeout: 90_000 }, async (t) => {
  const c = await cluster(TOPOLOGY, { control: true, mesh: { probeIntervalMs: 200 } });
  t.after(() => c.stop());
  const res = await fetch(`${c.control!.url}/v1/network/map-token`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  const map = (await res.json()) as { token: string; tenant: string; pattern: string; edges: { pop: string; wsUrl: string }[] };
  assert.equal(map.tenant, 'fps-system');
  assert.equal(map.pattern, 'net.#');
  // Reused, not reissued per call.
  const again = (await (await fetch(`${c.control!.url}/v1/network/map-token`)).json()) as { token: string };
  assert.equal(again.token, map.token);

  const tokyo = c.nodes.get('tokyo')!;
  const client = await connect({ endpoint: tokyo.wsUrl, token: map.token });
  t.after(() => client.close());
  const health = new Map<string, PopHealthMessage>();
  const links = new Map<string, LinkStateMessage>();
  const routes = new Map<string, RouteStateMessage>();
  const sub = await client.subscribe('fps-system', 'net.#');
  void (async () => {
    for await (const m of sub) {
      const msg = JSON.parse(new TextDecoder().decode(m.payload)) as PopHealthMessage | LinkStateMessage | RouteStateMessage;
      if (msg.kind === 'health') health.set(msg.pop, msg);
      else if (msg.kind === 'links') links.set(msg.pop, msg);
      else routes.set(msg.pop, msg);
    }
  })();

  await until('health of all three PoPs', 15_000, () => (health.size === 3 ? true : undefined));
  const hf = health.get('frankfurt')!;
  assert.deepEqual([hf.city, hf.lat, hf.lon, hf.status], ['Frankfurt', 50.11, 8.68, 'up']);
  // The route via Singapore can be published before the direct link's first measurement:
  // wait for a route message that carries both.
  const tf = await until('tokyo→frankfurt route via singapore, with the direct link measured', 30_000, () => {
    const r = routes.get('tokyo')?.routes.find((x) => x.dest === 'frankfurt');
    return r !== undefined && r.path.join() === 'tokyo,singapore,frankfurt' && r.directLatencyMs !== null ? r : undefined;
  });
  // One-way costs: the overlay ≈ 70 + 150 ms, the direct link ≈ 240 ms (both published; loose
  // bounds, the probes run on a shared machine).
  assert.ok(tf.directLatencyMs !== null && tf.directLatencyMs > 200 && tf.pathLatencyMs > 180 && tf.pathLatencyMs < 300, JSON.stringify(tf));
  const singaporeLinks = links.get('singapore')!.links;
  assert.deepEqual(singaporeLinks.map((l) => l.peer).sort(), ['frankfurt', 'tokyo']);
  assert.ok(singaporeLinks.every((l) => l.up && l.rttMs !== null && l.rttMs > 100), JSON.stringify(singaporeLinks));

  const killedAt = Date.now();
  c.kill('frankfurt');
  await until('tokyo reports its link to frankfurt down', 5000, () =>
    links.get('tokyo')?.links.find((l) => l.peer === 'frankfurt' && !l.up) !== undefined ? true : undefined, 20);
  const took = Date.now() - killedAt;
  assert.ok(took < 3000, `link down published after ${took} ms`);

  // The map token is subscribe-only: another tenant's channels are refused.
  await assert.rejects(client.subscribe('demo', '#'));
});
