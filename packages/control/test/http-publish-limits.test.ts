// HTTPS publish at a PoP that follows a control plane: the tenant's rate limit and monthly
// quota answer 429 with Retry-After, and a revoked token is refused with 401 (real control
// service, real relay, real sockets).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '@fastpubsub/testkit/relay';
import { ControlEnv, getToken, grant } from './harness.js';

const env = new ControlEnv();
after(() => env.cleanup());

async function publish(base: string, token: string, channel: string, body: string): Promise<Response> {
  return fetch(`${base}/v1/publish/${channel}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body, signal: AbortSignal.timeout(5000) });
}

test('over the tenant rate limit: 429 with Retry-After; the batch answers 429 per item', async () => {
  const control = await env.control();
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'slow', limits: { messagesPerSecond: 5, burstSeconds: 1 } } })).status, 201);
  const relay = await env.relay([control.url]);
  const token = await getToken(relay.httpUrl, { tenant_grants: [grant('slow')] });
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 20; i++) {
    const res = await publish(relay.httpUrl, token, 'slow/x.y', `m${i}`);
    statuses.push(res.status);
    if (res.status === 429) {
      retryAfter = res.headers.get('retry-after');
      assert.equal(((await res.json()) as { error: string }).error, 'rate_limited');
    } else {
      await res.text();
    }
  }
  const accepted = statuses.filter((s) => s === 202).length;
  assert.ok(accepted >= 5 && accepted < 20, `accepted ${accepted} of 20 at 5/s: ${statuses.join(',')}`);
  assert.ok(statuses.every((s) => s === 202 || s === 429));
  assert.equal(retryAfter, '1');
  const batch = await fetch(`${relay.httpUrl}/v1/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ tenant: 'slow', channel: 'x.b', text: String(i) }))),
  });
  assert.equal(batch.status, 202);
  assert.equal(batch.headers.get('retry-after'), '1');
  const results = ((await batch.json()) as { results: Array<{ status: number; error?: string }> }).results;
  assert.ok(results.some((r) => r.status === 429 && r.error === 'rate_limited'), JSON.stringify(results));
});

test('over the monthly quota: 429; a revoked token: 401', async () => {
  const control = await env.control();
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'metered', limits: { monthlyMessages: 3 } } })).status, 201);
  const relay = await env.relay([control.url]);
  const token = await getToken(relay.httpUrl, { tenant_grants: [grant('metered')] });
  // The PoP learns the tenant is over quota from the control plane once usage is reported.
  let refused: Response | undefined;
  for (let i = 0; i < 100 && refused === undefined; i++) {
    const res = await publish(relay.httpUrl, token, 'metered/q.x', `m${i}`);
    if (res.status === 429) refused = res;
    else {
      assert.equal(res.status, 202);
      await res.text();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(refused !== undefined, 'never refused over the quota');
  assert.equal(refused.headers.get('retry-after'), '1');

  const other = await getToken(relay.httpUrl, { tenant_grants: [grant('metered')] });
  const revoke = await http(relay.httpUrl, 'DELETE', '/v1/revoke-token', { body: { token: other } });
  assert.equal(revoke.status, 200, revoke.text);
  let status = 0;
  for (let i = 0; i < 50 && status !== 401; i++) {
    const res = await publish(relay.httpUrl, other, 'metered/q.x', 'after revoke');
    status = res.status;
    await res.text();
    if (status !== 401) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 401);
});
