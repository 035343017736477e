// The billing export against real usage: a relay reports what a client published, the export
// (JSON and CSV) shows exactly the counts the monthly quota is enforced on, repeats byte for
// byte, and is limited to its own tenant for a tenant's master token.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { http, waitFor } from '@fastpubsub/testkit/relay';
import { ControlEnv, MASTER_TOKEN, getToken, grant } from './harness.js';

const env = new ControlEnv();
after(() => env.cleanup());

const month = new Date().toISOString().slice(0, 7);

test('usage export: JSON and CSV per month, matching the quota counters, idempotent, tenant-scoped', { timeout: 60_000 }, async () => {
  const control = await env.control();
  const u = control.url;
  assert.equal((await http(u, 'POST', '/v1/tenants', { body: { id: 'billed', limits: { monthlyMessages: 20 } } })).status, 201);
  assert.equal((await http(u, 'POST', '/v1/tenants', { body: { id: 'idle' } })).status, 201);
  const relay = await env.relay([u]);
  const client = await env.connect(relay, await getToken(relay.httpUrl, { tenant_grants: [grant('billed')] }));
  for (let i = 0; i < 25; i++) client.publish('billed', 'bill.x', `m${i}`);
  await client.ping();
  // The PoP reports every 500 ms; the quota trips once the aggregated count reaches 20.
  await waitFor(() => control.service.hub.snapshot().overQuota.includes('billed'), 5000, 'billed over quota');
  await waitFor(async () => ((await exportJson(u, '/v1/usage/export')).tenants.find((t) => t.tenant === 'billed')?.messages ?? 0) >= 25, 5000, 'all 25 reported');

  const all = await exportJson(u, '/v1/usage/export');
  assert.equal(all.month, month);
  assert.deepEqual(all.tenants.map((t) => t.tenant), ['billed', 'idle']);
  const billed = all.tenants[0]!;
  // The very numbers the quota is computed from.
  const counted = control.service.hub.usage(month)['billed']!;
  assert.equal(billed.messages, counted.messages);
  assert.equal(billed.bytes, counted.bytes);
  assert.ok(billed.messages >= 25 && billed.bytes >= 25 * 2, JSON.stringify(billed));
  assert.deepEqual(all.tenants[1], { month, tenant: 'idle', messages: 0, bytes: 0, connectionMinutes: 0 });

  // CSV: the same rows; a second export is byte-identical.
  const csv = await http(u, 'GET', `/v1/usage/export?month=${month}&format=csv`);
  assert.equal(csv.status, 200);
  const raw = await fetch(`${u}/v1/usage/export?month=${month}&format=csv`, { headers: { authorization: `Bearer ${MASTER_TOKEN}` } });
  assert.match(raw.headers.get('content-type') ?? '', /^text\/csv/);
  assert.match(raw.headers.get('content-disposition') ?? '', new RegExp(`fastpubsub-usage-all-${month}\\.csv`));
  await raw.text();
  const lines = csv.text.trimEnd().split('\r\n');
  assert.deepEqual(lines[0], 'month,tenant,messages,bytes,connection_minutes');
  assert.equal(lines[1], `${month},billed,${billed.messages},${billed.bytes},${billed.connectionMinutes}`);
  assert.equal(lines[2], `${month},idle,0,0,0`);
  await client.close();
  await waitFor(async () => (await http(u, 'GET', `/v1/usage/export?month=${month}&format=csv`)).text === (await http(u, 'GET', `/v1/usage/export?month=${month}&format=csv`)).text, 5000, 'a stable export');
  const again = await http(u, 'GET', `/v1/usage/export?month=${month}&format=csv`);
  assert.equal(again.text, (await http(u, 'GET', `/v1/usage/export?month=${month}&format=csv`)).text);
  // Another month: every tenant at zero.
  const empty = await exportJson(u, '/v1/usage/export', '1999-01');
  assert.deepEqual(empty.tenants.map((t) => t.messages), [0, 0]);

  // A tenant's master token: its own export only.
  const mt = (await http(u, 'POST', '/v1/tenants/billed/master-tokens', { body: {} })).json as { token: string };
  const own = await exportJson(u, '/v1/tenants/billed/usage/export', month, mt.token);
  assert.deepEqual(own.tenants.map((t) => t.tenant), ['billed']);
  assert.equal((await http(u, 'GET', `/v1/tenants/idle/usage/export?month=${month}`, { bearer: mt.token })).status, 403);
  assert.equal((await http(u, 'GET', `/v1/usage/export?month=${month}`, { bearer: mt.token })).status, 403);
  // Bad input: a clear 400 with a stable code.
  for (const q of ['', 'month=2026-13', 'month=12-2026', `month=${month}&format=xml`]) {
    const r = await http(u, 'GET', `/v1/usage/export?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal((r.json as { error: string }).error, 'bad_request', q);
  }
});

interface Export {
  month: string;
  tenants: Array<{ month: string; tenant: string; messages: number; bytes: number; connectionMinutes: number }>;
}

async function exportJson(url: string, path: string, m = month, bearer?: string): Promise<Export> {
  const r = await http(url, 'GET', `${path}?month=${m}&format=json`, bearer === undefined ? {} : { bearer });
  assert.equal(r.status, 200, r.text);
  return r.json as Export;
}
