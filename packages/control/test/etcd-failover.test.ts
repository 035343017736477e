// Must-show 1: a real 3-member etcd cluster on loopback under two stateless control instances
// and two PoPs. One member killed: the API and config push keep working. All killed: PoPs keep
// serving their clients, token creation fails with 503 store_unavailable, and everything
// recovers when etcd returns.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { barrier, http, waitFor, type Client, type Relay } from '@fastpubsub/testkit/relay';
import type { Control } from '@fastpubsub/control';
import { EtcdCluster } from './etcd-cluster.js';
import { ControlEnv, getToken, grant, upgradeStatus } from './harness.js';

let etcd: EtcdCluster;
const env = new ControlEnv();
let controls: Control[];
let pops: Relay[];

before(async () => {
  etcd = await EtcdCluster.start(3);
  const store = { kind: 'etcd' as const, endpoints: etcd.endpoints, prefix: `/fps-test-${process.pid}` };
  controls = [await env.control({ store }), await env.control({ store })];
  const urls = controls.map((c) => c.url);
  pops = [await env.relay([urls[0]!, urls[1]!]), await env.relay([urls[1]!, urls[0]!])];
});

after(async () => {
  await env.cleanup();
  await etcd?.stop();
});

/** Retries get-token until it succeeds (a leader election may be under way); returns the token and the time it took. */
async function tokenEventually(base: string, ms: number): Promise<{ token: string; tookMs: number }> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < ms) {
    const r = await http(base, 'POST', '/v1/get-token', {
      body: { right: { tenant_grants: [grant('t1', ['a.#'])], expires_at: new Date(Date.now() + 3600_000).toISOString() }, created_by: 'etcd-test' },
    });
    if (r.status === 200) return { token: (r.json as { token: string }).token, tookMs: Date.now() - t0 };
    last = `${r.status} ${r.text}`;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no token within ${ms} ms; last answer ${last}`);
}

async function pubSubWorks(pub: Client, sub: Client): Promise<void> {
  const msgs = await barrier(pub, sub, 't1', 'a.x', 3000);
  assert.deepEqual(msgs, []);
}

test('healthy cluster: tokens from either instance are admitted at both PoPs; revocation via one instance reaches the PoP of the other', async () => {
  const tok = await getToken(controls[0]!.url, { tenant_grants: [grant('t1', ['a.#'])] });
  for (const p of pops) assert.equal(await upgradeStatus(p, tok), 101);
  const victim = await getToken(pops[1]!.httpUrl, { tenant_grants: [grant('t1', ['a.#'])] });
  assert.equal(await upgradeStatus(pops[0]!, victim), 101);
  assert.equal((await http(controls[1]!.url, 'DELETE', '/v1/revoke-token', { body: { token: victim } })).status, 200);
  for (const p of pops) await waitFor(async () => (await upgradeStatus(p, victim)) === 401, 1000, 'revocation at every PoP');
  // Both PoPs registered under etcd leases; either instance lists them.
  await waitFor(async () => {
    const r = await http(controls[1]!.url, 'GET', '/v1/pops');
    const ws = (r.json as { pops: Array<{ wsUrl: string }> }).pops.map((x) => x.wsUrl);
    return pops.every((p) => ws.includes(p.wsUrl));
  }, 3000, 'both PoPs in the registry');
});

test('one member killed: the API and config push keep working', async () => {
  await etcd.kill(0);
  const { token, tookMs } = await tokenEventually(controls[0]!.url, 10_000);
  assert.ok(tookMs < 10_000);
  await tokenEventually(controls[1]!.url, 5000);
  for (const p of pops) assert.equal(await upgradeStatus(p, token), 101);
  // Config push: limits and a revocation made through instance 1 reach both PoPs.
  await waitFor(async () => (await http(controls[1]!.url, 'POST', '/v1/tenants', { body: { id: 'tk' } })).status < 500, 5000, 'tenant create');
  const lim = await http(controls[1]!.url, 'PUT', '/v1/tenants/tk/limits', { body: { messagesPerSecond: 5 } });
  assert.equal(lim.status, 200, lim.text);
  assert.equal((await http(controls[0]!.url, 'DELETE', '/v1/revoke-token', { body: { token } })).status, 200);
  for (const p of pops) await waitFor(async () => (await upgradeStatus(p, token)) === 401, 1000, 'revocation with one member down');
  const pushed = await http(controls[0]!.url, 'GET', '/v1/tenants/tk/limits');
  assert.deepEqual(pushed.json, { messagesPerSecond: 5 });
  etcd.restart(0);
  await etcd.waitHealthy(15_000);
});

test('all members killed: PoPs keep serving, token creation is 503 store_unavailable, and everything recovers when etcd returns', async () => {
  const token = (await tokenEventually(controls[0]!.url, 5000)).token;
  const subs = [await env.connect(pops[0]!, token), await env.connect(pops[1]!, token)];
  const pubs = [await env.connect(pops[0]!, token), await env.connect(pops[1]!, token)];
  for (const s of subs) await s.sub('t1', 'a.#');
  await etcd.killAll();

  // Existing clients keep working at both PoPs, and new connections with known tokens are admitted.
  await pubSubWorks(pubs[0]!, subs[0]!);
  await pubSubWorks(pubs[1]!, subs[1]!);
  for (const p of pops) assert.equal(await upgradeStatus(p, token), 101);

  // Token creation fails fast with a clear error, directly and through a PoP.
  const t0 = Date.now();
  const r = await http(controls[0]!.url, 'POST', '/v1/get-token', {
    body: { right: { tenant_grants: [grant('t1')], expires_at: new Date(Date.now() + 60_000).toISOString() }, created_by: 'x' },
    timeoutMs: 10_000,
  });
  assert.equal(r.status, 503, r.text);
  assert.equal((r.json as { error: string }).error, 'store_unavailable');
  assert.ok(Date.now() - t0 < 8000, `503 took ${Date.now() - t0} ms`);
  const viaPop = await http(pops[1]!.httpUrl, 'POST', '/v1/get-token', {
    body: { right: { tenant_grants: [grant('t1')], expires_at: new Date(Date.now() + 60_000).toISOString() }, created_by: 'x' },
    timeoutMs: 10_000,
  });
  assert.equal(viaPop.status, 503, viaPop.text);
  assert.equal((viaPop.json as { error: string }).error, 'store_unavailable');
  await pubSubWorks(pubs[1]!, subs[1]!);

  // etcd returns: tokens can be created again and config push resumes (a revocation reaches both PoPs).
  etcd.restartAll();
  await etcd.waitHealthy(20_000);
  const back = await tokenEventually(controls[1]!.url, 15_000);
  for (const p of pops) assert.equal(await upgradeStatus(p, back.token), 101);
  // Both instances answer again within a few seconds of etcd's return.
  await waitFor(async () => (await http(controls[0]!.url, 'DELETE', '/v1/revoke-token', { body: { token: back.token } })).status === 200, 5000, 'revoke via the other instance after recovery');
  for (const p of pops) await waitFor(async () => (await upgradeStatus(p, back.token)) === 401, 3000, 'revocation after recovery');
  await pubSubWorks(pubs[0]!, subs[0]!);
});

test('a control instance going away: its PoPs fail over to the other instance and keep receiving revocations', async () => {
  const token = (await tokenEventually(controls[1]!.url, 5000)).token;
  for (const p of pops) assert.equal(await upgradeStatus(p, token), 101);
  await controls[0]!.close(); // pops[0] watched this one first
  const t0 = Date.now();
  assert.equal((await http(controls[1]!.url, 'DELETE', '/v1/revoke-token', { body: { token } })).status, 200);
  for (const p of pops) await waitFor(async () => (await upgradeStatus(p, token)) === 401, 3000, 'revocation after failover');
  assert.ok(Date.now() - t0 < 3000);
  // Token calls through the PoP whose first URL is gone go to the next one.
  const viaPop = await tokenEventually(pops[0]!.httpUrl, 3000);
  assert.equal(await upgradeStatus(pops[1]!, viaPop.token), 101);
});
