// The control service's HTTP API: every route documented in /openapi.json (and nothing else),
// auth per route, master tokens returned once and never stored or logged in clear, the
// embedded store surviving a restart, and a PoP serving from its disk cache while the control
// plane is down.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '@fastpubsub/core';
import { EmbeddedControlStore, ROUTES, openapi, startControl } from '@fastpubsub/control';
import { http, waitFor } from '@fastpubsub/testkit/relay';
import { ControlEnv, MASTER_TOKEN, POP_TOKEN, getToken, grant, upgradeStatus } from './harness.js';

const env = new ControlEnv();
afterEach(() => env.cleanup());

test('OpenAPI: every route is documented and every documented operation is served', async () => {
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(openapi.paths)) {
    for (const m of Object.keys(item)) if (m !== 'parameters') documented.add(`${m.toUpperCase()} ${path}`);
  }
  const served = new Set<string>(ROUTES.map((r) => `${r.method} ${r.path}`));
  assert.deepEqual([...served].filter((r) => !documented.has(r)), [], 'undocumented routes');
  assert.deepEqual([...documented].filter((r) => !served.has(r)), [], 'documented but not served');
  const control = await env.control();
  const r = await http(control.url, 'GET', '/openapi.json', { bearer: null });
  assert.equal(r.status, 200);
  assert.equal((r.json as { openapi: string }).openapi, '3.1.0');
});

test('auth: operator everywhere, tenant master tokens only for their tenant, PoP token only for PoP calls', async () => {
  const lines: string[] = [];
  const control = await startControl(
    { listen: { host: '127.0.0.1', port: 0 }, operatorToken: MASTER_TOKEN, popToken: POP_TOKEN, store: { kind: 'embedded', dataDir: await env.dir() } },
    { logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) },
  );
  env.controls.push(control);
  const u = control.url;
  assert.equal((await http(u, 'GET', '/v1/tenants', { bearer: null })).status, 401);
  assert.equal((await http(u, 'GET', '/v1/tenants', { bearer: 'nope' })).status, 401);
  assert.equal((await http(u, 'POST', '/v1/tenants', { body: { id: 'acme' } })).status, 201);
  assert.equal((await http(u, 'POST', '/v1/tenants', { body: { id: 'acme' } })).status, 409);
  assert.equal((await http(u, 'POST', '/v1/tenants', { body: { id: 'bad tenant' } })).status, 400);
  assert.equal((await http(u, 'POST', '/v1/tenants', { body: { id: 'other' } })).status, 201);
  const mt = (await http(u, 'POST', '/v1/tenants/acme/master-tokens', { body: { description: 'ci' } })).json as { id: string; token: string };
  assert.match(mt.token, /^MT_[0-9a-f]+_[0-9a-f]+$/);
  const listed = await http(u, 'GET', '/v1/tenants/acme/master-tokens');
  assert.ok(!listed.text.includes(mt.token.split('_')[2]!), 'the secret is never returned again');
  assert.ok(!listed.text.includes('secretHash'));

  assert.equal((await http(u, 'GET', '/v1/tenants/acme', { bearer: mt.token })).status, 200);
  assert.equal((await http(u, 'GET', '/v1/tenants/other', { bearer: mt.token })).status, 403);
  assert.equal((await http(u, 'GET', '/v1/tenants', { bearer: mt.token })).status, 403);
  assert.equal((await http(u, 'PUT', '/v1/tenants/acme/limits', { bearer: mt.token, body: {} })).status, 403);
  assert.equal((await http(u, 'GET', '/v1/watch', { bearer: mt.token })).status, 403);
  assert.equal((await http(u, 'GET', '/v1/tenants', { bearer: POP_TOKEN })).status, 403);
  assert.equal((await http(u, 'GET', '/v1/pops', { bearer: POP_TOKEN })).status, 200);
  // Limits are validated strictly.
  const badLimits = await http(u, 'PUT', '/v1/tenants/acme/limits', { body: { messagesPerSec: 5 } });
  assert.equal(badLimits.status, 400);
  assert.match(badLimits.text, /messagesPerSec: unknown key/);

  const tok = await getToken(u, { tenant_grants: [grant('acme')] }, mt.token);
  const revokeByOther = await http(u, 'DELETE', '/v1/revoke-token', { bearer: mt.token, body: { token: await getToken(u, { tenant_grants: [grant('other')] }) } });
  assert.equal(revokeByOther.status, 403);
  assert.equal((await http(u, 'DELETE', '/v1/revoke-token', { bearer: mt.token, body: { token: tok } })).status, 200);
  assert.equal((await http(u, 'DELETE', `/v1/tenants/acme/master-tokens/${mt.id}`)).status, 200);
  assert.equal((await http(u, 'GET', '/v1/tenants/acme', { bearer: mt.token })).status, 401);
  assert.equal((await http(u, 'PATCH', '/v1/tenants/acme', { body: { name: 'Acme' } })).status, 200);
  assert.equal((await http(u, 'DELETE', '/v1/tenants/acme')).status, 200);
  assert.equal((await http(u, 'GET', '/v1/tenants/acme')).status, 404);
  assert.equal((await http(u, 'PUT', '/v1/tenants')).status, 405);
  const logText = lines.join('\n');
  assert.ok(!logText.includes(mt.token.split('_')[2]!), 'master token secret never logged');
  assert.ok(!logText.includes(tok.slice(40)), 'access token never logged');
});

test('embedded store: records survive a restart; a torn last line is skipped; TTL records lapse with a delete event', async () => {
  const dir = await env.dir();
  const s1 = await EmbeddedControlStore.open(dir, { sweepMs: 50 });
  await s1.put('tenant', 'a', { id: 'a' });
  assert.equal(await s1.put('tenant', 'a', { id: 'x' }, { ifAbsent: true }), false);
  await s1.put('limits', 'a', { messagesPerSecond: 1 });
  await s1.delete('limits', 'a');
  const deleted: string[] = [];
  s1.watch((c) => {
    if (c.value === undefined) deleted.push(`${c.kind}/${c.id}`);
  });
  await s1.put('pop', 'p1', { id: 'p1' }, { ttlMs: 100 });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(deleted, ['pop/p1']);
  await s1.close();
  await appendFile(join(dir, 'control.log'), '0123456789abcdef {"k":"tenant","id":"torn"'); // crash mid-append
  const s2 = await EmbeddedControlStore.open(dir);
  assert.deepEqual(await s2.get('tenant', 'a'), { id: 'a' });
  assert.equal(await s2.get('tenant', 'torn'), undefined);
  assert.equal(await s2.get('limits', 'a'), undefined);
  assert.equal(await s2.get('pop', 'p1'), undefined);
  await s2.close();
  assert.ok(!(await readFile(join(dir, 'control.log'), 'utf8')).includes('torn'), 'compacted on open');
});

test('a PoP restarted while the control plane is down admits known tokens from its disk cache and refuses revoked ones', async () => {
  const control = await env.control();
  const dataDir = await env.dir();
  const pop = await env.relay([control.url], { dataDir });
  const good = await getToken(control.url, { tenant_grants: [grant('t1')] });
  const bad = await getToken(control.url, { tenant_grants: [grant('t1')] });
  assert.equal((await http(control.url, 'DELETE', '/v1/revoke-token', { body: { token: bad } })).status, 200);
  await new Promise((r) => setTimeout(r, 200)); // cache written (debounced 50 ms)
  await pop.close({ graceMs: 0 });
  await control.close();
  const again = await env.relay([control.url], { dataDir });
  assert.equal(await upgradeStatus(again, good), 101);
  assert.equal(await upgradeStatus(again, bad), 401);
  // Token calls fail clearly while the control plane is away.
  const r = await http(again.httpUrl, 'POST', '/v1/get-token', { body: { right: { tenant_grants: [grant('t1')], expires_at: new Date(Date.now() + 60_000).toISOString() }, created_by: 'x' } });
  assert.equal(r.status, 503);
  assert.equal((r.json as { error: string }).error, 'store_unavailable');
});

test('PoP registry: a PoP that stops heartbeating leaves when its lease lapses', async () => {
  const control = await env.control({ popLeaseMs: 1000 });
  const pop = await env.relay([control.url], { popId: 'short-lived' });
  const listed = async (): Promise<string[]> => ((await http(control.url, 'GET', '/v1/pops', { bearer: POP_TOKEN })).json as { pops: Array<{ id: string }> }).pops.map((p) => p.id);
  await waitFor(async () => (await listed()).includes('short-lived'), 2000, 'registered');
  await pop.close({ graceMs: 0 });
  await waitFor(async () => !(await listed()).includes('short-lived'), 3000, 'lease lapsed');
});
