// Signed tickets end to end over real sockets: tokens issued through any PoP's contract REST
// (forwarded to the control service) are admitted by every PoP without a round trip; refresh
// and revocation reach every PoP through the watch stream.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { http, isoIn, waitFor } from '@fastpubsub/testkit/relay';
import { ControlEnv, getToken, grant, upgradeStatus } from './harness.js';

const env = new ControlEnv();
afterEach(() => env.cleanup());

test('a token issued at one PoP is admitted at three; after revoke every PoP refuses it within 1 s and closes its connections with 1008', async () => {
  const control = await env.control();
  const pops = [await env.relay([control.url]), await env.relay([control.url]), await env.relay([control.url])];
  const token = await getToken(pops[0]!.httpUrl, { tenant_grants: [grant('t1', ['a.#'])] });
  assert.match(token, /^AT_[0-9a-f]{32}_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const clients = await Promise.all(pops.map((p) => env.connect(p, token)));
  for (const c of clients) await c.sub('t1', 'a.#');
  clients[1]!.publish('t1', 'a.b', 'hello');
  assert.equal((await clients[1]!.nextDelivery()).payload.toString(), 'hello');

  const t0 = Date.now();
  const r = await http(pops[2]!.httpUrl, 'DELETE', '/v1/revoke-token', { body: { token } });
  assert.equal(r.status, 200, r.text);
  // Every PoP closes the revoked token's connection and refuses new ones.
  await Promise.all(
    clients.map(async (c) => {
      const info = await c.closed;
      assert.equal(info.code, 1008);
    }),
  );
  for (const p of pops) {
    await waitFor(async () => (await upgradeStatus(p, token)) === 401, 1000, `401 at ${p.httpUrl}`);
  }
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  // Revoking again is idempotent.
  const again = await http(control.url, 'DELETE', '/v1/revoke-token', { body: { token } });
  assert.equal(again.status, 200);
  assert.match(again.text, /already revoked/);
});

test('refresh keeps the token text and moves the expiry at every PoP; a forged or unknown-key token is 401', async () => {
  const control = await env.control();
  const pops = [await env.relay([control.url]), await env.relay([control.url])];
  const token = await getToken(control.url, { tenant_grants: [grant('t1')], expires_at: isoIn(1500) });
  assert.equal(await upgradeStatus(pops[0]!, token), 101);
  const id = token.slice(3, 35);
  const r = await http(pops[1]!.httpUrl, 'PUT', '/v1/refresh-token', { body: { token_id: id, expires_at: isoIn(3600_000) } });
  assert.equal(r.status, 200, r.text);
  const j = r.json as { message: string; new_expires_at: string };
  assert.equal(typeof j.message, 'string');
  assert.ok(Date.parse(j.new_expires_at) > Date.now() + 3000_000);
  await new Promise((res) => setTimeout(res, 1800)); // past the signed expiry
  for (const p of pops) assert.equal(await upgradeStatus(p, token), 101, 'refreshed token still admitted');

  // Flip one character of the signature: 401, as is garbage after AT_{id}_.
  const sig = token.slice(-10);
  const forged = token.slice(0, -10) + (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  assert.equal(await upgradeStatus(pops[0]!, forged), 401);
  assert.equal(await upgradeStatus(pops[0]!, `AT_${id}_not.a.jws`), 401);
  // A bad master token is 401 through the PoP too.
  const bad = await http(pops[0]!.httpUrl, 'POST', '/v1/get-token', { body: {}, bearer: 'wrong' });
  assert.equal(bad.status, 401);
  const none = await http(pops[0]!.httpUrl, 'POST', '/v1/get-token', { body: {}, bearer: null });
  assert.equal(none.status, 401, 'no Authorization is 401 through a PoP too');
  const tooLate = await http(pops[0]!.httpUrl, 'POST', '/v1/get-token', {
    body: { right: { tenant_grants: [grant('t1')], expires_at: isoIn(25 * 3600_000) }, created_by: 'x' },
  });
  assert.equal(tooLate.status, 400, 'contract check 19: 25 h ahead is 400');
});

test('key rotation: old tokens keep working, new tokens use the new key; the PoP registry lists every PoP', async () => {
  const control = await env.control();
  const pop = await env.relay([control.url], { popId: 'pop-a' });
  const old = await getToken(control.url, { tenant_grants: [grant('t1')] });
  const rot = await http(control.url, 'POST', '/v1/keys/rotate', { body: {} });
  assert.equal(rot.status, 200, rot.text);
  const { kid, published } = rot.json as { kid: string; published: string[] };
  assert.equal(published.length, 2);
  const fresh = await getToken(control.url, { tenant_grants: [grant('t1')] });
  const kidOf = (t: string): string => (JSON.parse(Buffer.from(t.split('_')[2]!.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
  assert.equal(kidOf(fresh), kid);
  assert.notEqual(kidOf(old), kid);
  await waitFor(async () => (await upgradeStatus(pop, fresh)) === 101, 1000, 'new key pushed');
  assert.equal(await upgradeStatus(pop, old), 101);
  await waitFor(async () => {
    const r = await http(control.url, 'GET', '/v1/pops');
    return (r.json as { pops: Array<{ id: string; wsUrl: string }> }).pops.some((p) => p.id === 'pop-a' && p.wsUrl === pop.wsUrl);
  }, 3000, 'pop registered');
});
