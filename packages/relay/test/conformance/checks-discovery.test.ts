// Contract v0.1 §11.9 / §11.10 check 38, the relay's part: with one bootstrap host down and one
// up, a client that resolves like SDK 0.3.4 (GET the edge list, GET /ping every candidate with a
// 3 s timeout, skip failures, take the fastest `pong`) lands on the live relay, which passes
// checks 1 and 18 (check 21 for the live hosts).
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestEnv, connectWs, freePort, http } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
afterEach(() => env.cleanup());

async function ping(host: string): Promise<{ host: string; ok: boolean; ms: number }> {
  const start = performance.now();
  try {
    const res = await fetch(`http://${host}/ping`, { signal: AbortSignal.timeout(3000) });
    const ok = res.ok && (await res.text()).trim() === 'pong';
    return { host, ok, ms: performance.now() - start };
  } catch {
    return { host, ok: false, ms: performance.now() - start };
  }
}

describe('contract v0.1 §11.9: discovery with a host down (check 38)', () => {
  test('check 38: the edge list names a dead and a live host; resolving skips the dead one and the live one passes checks 1 and 18', async () => {
    const deadPort = await freePort(); // nothing listens here
    const livePort = await freePort();
    const dead = `127.0.0.1:${deadPort}`;
    const live = `127.0.0.1:${livePort}`;
    const relay = await env.relay({ listen: { host: '127.0.0.1', port: livePort }, discovery: { edges: [dead, live] } });

    const doc = await http(relay.httpUrl, 'GET', '/v1/edges', { bearer: null });
    assert.equal(doc.status, 200);
    const edges = (doc.json as { edges: string[] }).edges;
    assert.deepEqual(edges, [dead, live]);

    const probes = await Promise.all(edges.map(ping));
    assert.deepEqual(probes.map((p) => [p.host, p.ok]), [[dead, false], [live, true]]);
    const picked = probes.filter((p) => p.ok).sort((a, b) => a.ms - b.ms)[0];
    assert.equal(picked?.host, live);

    // Checks 18 and 1 on the host picked.
    const pong = await http(`http://${live}`, 'GET', '/ping', { bearer: null });
    assert.equal(pong.text.trim(), 'pong');
    const c = env.track(await connectWs(`ws://${live}/ws`, await env.token(relay)));
    assert.equal(c.ws.protocol, 'llps.v1');
    await c.ping();
  });
});
