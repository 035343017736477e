// Inbound webhooks over real sockets: a hook registered in the control plane, a relay that
// follows it, POST /v1/hooks/{id} signed per each scheme (good, bad signature, expired
// timestamp, missing headers), JSON-pointer routing, 404/413, and the body arriving byte-exact
// at a WebSocket subscriber (or nothing arriving when refused).
import { after, before, test } from 'node:test';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { http, metricValue, scrapeMetrics, type Client, type Relay } from '@fastpubsub/testkit/relay';
import type { Control } from '@fastpubsub/control';
import { ControlEnv, getToken, grant } from './harness.js';
import { createHook, githubSignature, nowSeconds, postHook, standardSignature, stripeSignature, waitForInbound } from './webhook-helpers.js';

const env = new ControlEnv();
let control: Control;
let relay: Relay;
let sub: Client;
after(() => env.cleanup());

before(async () => {
  control = await env.control();
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'acme' } })).status, 201);
  relay = await env.relay([control.url]);
  sub = await env.connect(relay, await getToken(relay.httpUrl, { tenant_grants: [grant('acme')] }));
  await sub.sub('acme', 'hooks.#');
});

async function expectDelivered(channel: string, body: string | Buffer): Promise<void> {
  const d = await sub.nextDelivery(3000);
  assert.equal(d.channel, channel);
  assert.deepEqual(Buffer.from(d.payload), Buffer.from(body));
}

async function expectRefused(res: Response, status: number, code: string, detail?: string): Promise<void> {
  assert.equal(res.status, status);
  const j = (await res.json()) as { error: string; detail?: string };
  assert.equal(j.error, code);
  if (detail !== undefined) assert.equal(j.detail, detail);
}

test('Standard Webhooks: good publishes byte-exact; bad signature, expired timestamp and missing headers are 401 and publish nothing', async () => {
  const hook = await createHook(control.url, 'acme', 'inbound', { scheme: 'standard', channel: 'hooks.std' });
  assert.match(hook.secret ?? '', /^whsec_/);
  const secret = hook.secret as string;
  await waitForInbound(relay.httpUrl, hook.id);
  const body = JSON.stringify({ type: 'invoice.paid', amount: 1200, note: 'ünïcödé' });
  const ts = nowSeconds();
  const good = await postHook(relay.httpUrl, hook.id, body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': standardSignature(secret, 'msg_1', ts, body) });
  assert.equal(good.status, 202);
  assert.match(((await good.json()) as { id: string }).id, /^[0-9a-f]{32}$/);
  await expectDelivered('hooks.std', body);

  const wrongKey = 'whsec_' + Buffer.alloc(24, 7).toString('base64');
  await expectRefused(
    await postHook(relay.httpUrl, hook.id, body, { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': standardSignature(wrongKey, 'msg_2', ts, body) }),
    401, 'signature_invalid', 'bad_signature',
  );
  // A signature over another body (tampered in flight).
  await expectRefused(
    await postHook(relay.httpUrl, hook.id, body + ' ', { 'webhook-id': 'msg_3', 'webhook-timestamp': String(ts), 'webhook-signature': standardSignature(secret, 'msg_3', ts, body) }),
    401, 'signature_invalid', 'bad_signature',
  );
  const old = ts - 301;
  await expectRefused(
    await postHook(relay.httpUrl, hook.id, body, { 'webhook-id': 'msg_4', 'webhook-timestamp': String(old), 'webhook-signature': standardSignature(secret, 'msg_4', old, body) }),
    401, 'signature_invalid', 'timestamp_out_of_tolerance',
  );
  await expectRefused(await postHook(relay.httpUrl, hook.id, body, { 'webhook-id': 'msg_5' }), 401, 'signature_invalid', 'missing_header');
  await sub.expectNothing(300);

  // The sender's retry of msg_1 (same webhook-id) is not published twice.
  const ts2 = nowSeconds();
  const again = await postHook(relay.httpUrl, hook.id, body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts2), 'webhook-signature': standardSignature(secret, 'msg_1', ts2, body) });
  assert.equal(again.status, 202);
  await sub.expectNothing(300);
  const m = await scrapeMetrics(relay);
  assert.equal(metricValue(m, 'fastpubsub_webhook_inbound_total', { result: 'signature_invalid' }), 4);
});

test('GitHub X-Hub-Signature-256: good, bad, missing', async () => {
  const hook = await createHook(control.url, 'acme', 'inbound', { scheme: 'github', channel: 'hooks.gh', secret: 'gh-secret-123' });
  await waitForInbound(relay.httpUrl, hook.id);
  const body = Buffer.from(JSON.stringify({ action: 'opened', number: 7 }));
  assert.equal((await postHook(relay.httpUrl, hook.id, body, { 'x-hub-signature-256': githubSignature('gh-secret-123', body), 'x-github-delivery': 'd-1' })).status, 202);
  await expectDelivered('hooks.gh', body);
  await expectRefused(await postHook(relay.httpUrl, hook.id, body, { 'x-hub-signature-256': githubSignature('other-secret', body) }), 401, 'signature_invalid', 'bad_signature');
  await expectRefused(await postHook(relay.httpUrl, hook.id, body), 401, 'signature_invalid', 'missing_header');
  await sub.expectNothing(300);
});

test('Stripe-Signature: good, bad, expired, missing', async () => {
  const hook = await createHook(control.url, 'acme', 'inbound', { scheme: 'stripe', channel: 'hooks.stripe', secret: 'whsec_stripe_test_1' });
  await waitForInbound(relay.httpUrl, hook.id);
  const body = JSON.stringify({ id: 'evt_1', type: 'charge.succeeded' });
  const ts = nowSeconds();
  assert.equal((await postHook(relay.httpUrl, hook.id, body, { 'stripe-signature': stripeSignature('whsec_stripe_test_1', ts, body) })).status, 202);
  await expectDelivered('hooks.stripe', body);
  await expectRefused(await postHook(relay.httpUrl, hook.id, body, { 'stripe-signature': stripeSignature('whsec_wrong', ts, body) }), 401, 'signature_invalid', 'bad_signature');
  await expectRefused(await postHook(relay.httpUrl, hook.id, body, { 'stripe-signature': stripeSignature('whsec_stripe_test_1', ts - 600, body) }), 401, 'signature_invalid', 'timestamp_out_of_tolerance');
  await expectRefused(await postHook(relay.httpUrl, hook.id, body, { 'stripe-signature': `t=${ts}` }), 401, 'signature_invalid', 'missing_header');
  await expectRefused(await postHook(relay.httpUrl, hook.id, body), 401, 'signature_invalid', 'missing_header');
  await sub.expectNothing(300);
});

test('scheme none and JSON-pointer routing: the channel comes from the body; a pointer naming nothing is 400', async () => {
  const hook = await createHook(control.url, 'acme', 'inbound', { scheme: 'none', channelPointer: '/route/to' });
  await waitForInbound(relay.httpUrl, hook.id);
  const body = JSON.stringify({ route: { to: 'hooks.routed.a1' }, value: 42 });
  assert.equal((await postHook(relay.httpUrl, hook.id, body)).status, 202);
  await expectDelivered('hooks.routed.a1', body);
  await expectRefused(await postHook(relay.httpUrl, hook.id, JSON.stringify({ route: {} })), 400, 'bad_request', 'channel_pointer');
  await expectRefused(await postHook(relay.httpUrl, hook.id, 'not json'), 400, 'bad_request');
  await expectRefused(await postHook(relay.httpUrl, hook.id, JSON.stringify({ route: { to: 'bad..name' } })), 400, 'invalid_name');
  await sub.expectNothing(300);
});

test('unknown hook 404; oversize body 413; a deleted hook stops being accepted', async () => {
  await expectRefused(await postHook(relay.httpUrl, 'in_000000000000000000000000', 'x'), 404, 'not_found');
  const hook = await createHook(control.url, 'acme', 'inbound', { scheme: 'none', channel: 'hooks.big' });
  await waitForInbound(relay.httpUrl, hook.id);
  await expectRefused(await postHook(relay.httpUrl, hook.id, Buffer.alloc(65_536, 1)), 413, 'payload_too_large');
  const atLimit = Buffer.alloc(65_535, 2);
  assert.equal((await postHook(relay.httpUrl, hook.id, atLimit)).status, 202);
  await expectDelivered('hooks.big', atLimit);
  assert.equal((await http(control.url, 'DELETE', `/v1/tenants/acme/hooks/inbound/${hook.id}`)).status, 200);
  let status = 0;
  for (let i = 0; i < 50 && status !== 404; i++) {
    const res = await postHook(relay.httpUrl, hook.id, 'late');
    status = res.status;
    await res.text();
    if (status !== 404) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(status, 404);
});

test('control plane: bodies are validated, secrets are shown once, other tenants cannot see the hooks', async () => {
  const bad = async (body: unknown, re: RegExp): Promise<void> => {
    const r = await http(control.url, 'POST', '/v1/tenants/acme/hooks/inbound', { body });
    assert.equal(r.status, 400, r.text);
    assert.match((r.json as { message: string }).message, re);
  };
  await bad({ channel: 'a.b' }, /scheme/);
  await bad({ scheme: 'sha1', channel: 'a.b' }, /scheme must be one of/);
  await bad({ scheme: 'none' }, /exactly one of channel or channelPointer/);
  await bad({ scheme: 'none', channel: 'a.b', channelPointer: '/x' }, /exactly one/);
  await bad({ scheme: 'github', channel: 'a.b' }, /secret/);
  await bad({ scheme: 'standard', channel: 'a.b', secret: 'not-a-whsec' }, /whsec_/);
  await bad({ scheme: 'none', channelPointer: 'no-slash' }, /JSON pointer/);
  await bad({ scheme: 'none', channel: 'a.b', extra: 1 }, /no other fields/);
  const out = await http(control.url, 'POST', '/v1/tenants/acme/hooks/outbound', { body: { pattern: 'a.#', url: 'ftp://x' } });
  assert.equal(out.status, 400);
  const hook = await createHook(control.url, 'acme', 'inbound', { scheme: 'standard', channel: 'a.b' });
  const listed = (await http(control.url, 'GET', '/v1/tenants/acme/hooks/inbound')).json as { hooks: Array<Record<string, unknown>> };
  const mine = listed.hooks.find((h) => h['id'] === hook.id);
  assert.ok(mine !== undefined);
  assert.equal(mine['secret'], undefined);
  assert.equal(mine['url'], `/v1/hooks/${hook.id}`);
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'other' } })).status, 201);
  const mt = (await http(control.url, 'POST', '/v1/tenants/other/master-tokens', { body: {} })).json as { token: string };
  assert.equal((await http(control.url, 'GET', '/v1/tenants/acme/hooks/inbound', { bearer: mt.token })).status, 403);
  assert.equal((await http(control.url, 'GET', `/v1/tenants/other/hooks/inbound/${hook.id}`, { bearer: mt.token })).status, 404);
});

test('deleting a tenant deletes its hooks: every PoP answers 404 for them', async () => {
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'gone' } })).status, 201);
  const hook = await createHook(control.url, 'gone', 'inbound', { scheme: 'none', channel: 'x.y' });
  await waitForInbound(relay.httpUrl, hook.id);
  assert.equal((await http(control.url, 'DELETE', '/v1/tenants/gone')).status, 200);
  let status = 0;
  for (let i = 0; i < 50 && status !== 404; i++) {
    const res = await postHook(relay.httpUrl, hook.id, Buffer.alloc(70_000));
    status = res.status;
    await res.text();
    if (status !== 404) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(status, 404);
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'gone' } })).status, 201);
  assert.deepEqual(((await http(control.url, 'GET', '/v1/tenants/gone/hooks/inbound')).json as { hooks: unknown[] }).hooks, []);
});

test('a PoP restarted while the control plane is down keeps its hooks (state cache)', async () => {
  const ctl = await env.control();
  assert.equal((await http(ctl.url, 'POST', '/v1/tenants', { body: { id: 'cached' } })).status, 201);
  const dataDir = await env.dir();
  const first = await env.relay([ctl.url], { dataDir });
  const hook = await createHook(ctl.url, 'cached', 'inbound', { scheme: 'github', channel: 'c.hooked', secret: 'cache-secret' });
  await waitForInbound(first.httpUrl, hook.id);
  const token = await getToken(ctl.url, { tenant_grants: [grant('cached')] });
  await new Promise((r) => setTimeout(r, 200)); // the cache is written 50 ms after a change
  await first.close({ graceMs: 0 });
  assert.equal((await stat(join(dataDir, 'control-state.json'))).mode & 0o777, 0o600, 'the cache holds secrets: owner-only');
  await ctl.close();
  const second = await env.relay([ctl.url], { dataDir });
  const s = await env.connect(second, token);
  await s.sub('cached', 'c.#');
  const body = '{"cached":true}';
  const res = await postHook(second.httpUrl, hook.id, body, { 'x-hub-signature-256': githubSignature('cache-secret', body) });
  assert.equal(res.status, 202, await res.clone().text());
  const d = await s.nextDelivery(3000);
  assert.equal(d.payload.toString(), body);
});
