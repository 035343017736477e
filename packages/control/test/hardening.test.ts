// The control service's REST surface over real sockets: failed bearer tokens are throttled per
// IP with backoff (429 + Retry-After, even for the right token while blocked), and request
// bodies must be application/json.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '@fastpubsub/testkit/relay';
import { ControlEnv, MASTER_TOKEN } from './harness.js';

const env = new ControlEnv();
afterEach(() => env.cleanup());

test('wrong bearer tokens are throttled per IP with Retry-After', async () => {
  const control = await env.control();
  for (let i = 0; i < 20; i++) {
    assert.equal((await http(control.url, 'GET', '/v1/tenants', { bearer: `wrong-operator-token-${i}-0123456789abcdef` })).status, 401);
  }
  const res = await fetch(`${control.url}/v1/tenants`, { headers: { authorization: `Bearer ${MASTER_TOKEN}` } });
  assert.equal(res.status, 429);
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
  // Unauthenticated routes stay open.
  assert.equal((await http(control.url, 'GET', '/ping', { bearer: null })).status, 200);
});

test('request bodies must be application/json', async () => {
  const control = await env.control();
  const res = await fetch(`${control.url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_TOKEN}`, 'content-type': 'text/plain' },
    body: JSON.stringify({ id: 'acme' }),
  });
  assert.equal(res.status, 415);
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'acme' } })).status, 201);
});
