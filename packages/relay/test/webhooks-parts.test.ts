// The webhook parts of a PoP on their own: signatures against the published Standard Webhooks
// vector and each scheme's rules, JSON-pointer channel routing, http target rules, and one
// hook's deliverer against a real local HTTP server (bounded queue, retries, close).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutboundHook } from '@fastpubsub/protocol';
import { isFpsError } from '@fastpubsub/core';
import { channelFromBody, isAllowedTarget, signStandard, verifyInbound } from '../src/webhooks/index.js';
import { HookDeliverer, type DropReason } from '../src/webhooks/deliverer.js';

const VECTOR = { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', ts: 1614265330, body: '{"test": 2432232314}' };
const VECTOR_SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isFpsError(err));
    assert.equal(err.code, 'signature_invalid');
    return err.detail ?? '';
  }
  return 'accepted';
}

const headers = (h: Record<string, string>) => (name: string): string | undefined => h[name];

test('Standard Webhooks: the published test vector signs and verifies; any listed signature may match', () => {
  assert.equal(signStandard(VECTOR.secret, VECTOR.id, VECTOR.ts, VECTOR.body), VECTOR_SIG);
  const at = VECTOR.ts * 1000;
  const h = { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.ts), 'webhook-signature': `v1,bm9wZQ== ${VECTOR_SIG}` };
  assert.equal(refusal(() => verifyInbound('standard', VECTOR.secret, headers(h), Buffer.from(VECTOR.body), at)), 'accepted');
  assert.equal(refusal(() => verifyInbound('standard', VECTOR.secret, headers(h), Buffer.from(VECTOR.body + ' '), at)), 'bad_signature');
  assert.equal(refusal(() => verifyInbound('standard', VECTOR.secret, headers(h), Buffer.from(VECTOR.body), at + 301_000)), 'timestamp_out_of_tolerance');
  assert.equal(refusal(() => verifyInbound('standard', VECTOR.secret, headers(h), Buffer.from(VECTOR.body), at - 301_000)), 'timestamp_out_of_tolerance', 'from the future too');
  assert.equal(refusal(() => verifyInbound('standard', VECTOR.secret, headers(h), Buffer.from(VECTOR.body), at + 299_000)), 'accepted');
  assert.equal(refusal(() => verifyInbound('standard', VECTOR.secret, headers({ ...h, 'webhook-timestamp': 'soon' }), Buffer.from(VECTOR.body), at)), 'missing_header');
});

test('GitHub and Stripe: case of hex, several v1 entries, missing parts', () => {
  const body = Buffer.from('{"zen":"Keep it logically awesome."}');
  const gh = 'sha256=' + createHmac('sha256', 'sekret').update(body).digest('hex');
  assert.equal(refusal(() => verifyInbound('github', 'sekret', headers({ 'x-hub-signature-256': gh.toUpperCase().replace('SHA256=', 'sha256=') }), body, 0)), 'accepted');
  assert.equal(refusal(() => verifyInbound('github', 'other', headers({ 'x-hub-signature-256': gh }), body, 0)), 'bad_signature');
  const now = 1_800_000_000_000;
  const t = now / 1000;
  const v1 = createHmac('sha256', 'whsec_s').update(`${t}.`).update(body).digest('hex');
  assert.equal(refusal(() => verifyInbound('stripe', 'whsec_s', headers({ 'stripe-signature': `t=${t},v1=${'0'.repeat(64)},v1=${v1},v0=abc` }), body, now)), 'accepted');
  assert.equal(refusal(() => verifyInbound('stripe', 'whsec_s', headers({ 'stripe-signature': `t=${t},v0=${v1}` }), body, now)), 'missing_header');
  assert.equal(refusal(() => verifyInbound('stripe', 'whsec_s', headers({ 'stripe-signature': `t=${t},v1=${v1}` }), body, now + 400_000)), 'timestamp_out_of_tolerance');
  assert.equal(refusal(() => verifyInbound('none', undefined, headers({}), body, now)), 'accepted');
});

test('JSON pointers: escapes, arrays, non-strings and invalid names', () => {
  const body = Buffer.from(JSON.stringify({ 'a/b': { '~x': 'room.one' }, list: ['zero', 'list.one'], n: 5, bad: 'a..b' }));
  assert.equal(channelFromBody(body, '/a~1b/~0x'), 'room.one');
  assert.equal(channelFromBody(body, '/list/1'), 'list.one');
  assert.throws(() => channelFromBody(body, '/n'), /does not name a string/);
  assert.throws(() => channelFromBody(body, '/missing/deeper'), /does not name a string/);
  assert.throws(() => channelFromBody(body, '/bad'), (e: unknown) => isFpsError(e) && e.code === 'invalid_name');
  assert.throws(() => channelFromBody(Buffer.from('nope'), '/a'), /must be JSON/);
});

test('targets: https anywhere; http only to loopback unless allowed', () => {
  assert.ok(isAllowedTarget('https://example.com/x', false));
  assert.ok(isAllowedTarget('http://127.0.0.1:9/x', false));
  assert.ok(isAllowedTarget('http://[::1]:9/x', false));
  assert.ok(isAllowedTarget('http://localhost/x', false));
  assert.ok(!isAllowedTarget('http://10.0.0.1/x', false));
  assert.ok(!isAllowedTarget('http://127.0.0.1.example.com/x', false));
  assert.ok(isAllowedTarget('http://10.0.0.1/x', true));
  assert.ok(!isAllowedTarget('ftp://127.0.0.1/x', true));
});

async function server(status: () => number): Promise<{ url: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(String(req.headers['webhook-id']));
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`, hits, server: s };
}

function hook(url: string, extra: Partial<OutboundHook> = {}): OutboundHook {
  return { id: 'out_1', tenant: 't', direction: 'out', pattern: '#', url, secret: VECTOR.secret, timeoutMs: 1000, retryWindowMs: 60_000, createdAtMs: 0, ...extra };
}

test('deliverer: a bounded queue (queue_full), retries with jittered backoff, the window, close', async () => {
  let failing = true;
  const target = await server(() => (failing ? 500 : 200));
  const drops: DropReason[] = [];
  const d = new HookDeliverer(hook(target.url), {
    maxQueue: 5, maxInFlight: 2, backoffBaseMs: 20, backoffCapMs: 100, now: Date.now, random: Math.random,
    count: (result, reason) => { if (result === 'dropped' && reason !== undefined) drops.push(reason); },
  });
  for (let i = 0; i < 8; i++) d.enqueue(`m${i}`, `{"n":${i}}`);
  assert.deepEqual(drops, ['queue_full', 'queue_full', 'queue_full']);
  assert.equal(d.held, 5);
  const deadline = Date.now() + 5000;
  while (d.counts.retried < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(d.counts.retried >= 10, `${d.counts.retried} retries`);
  failing = false;
  while (d.counts.delivered < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(d.counts.delivered, 5);
  assert.equal(d.held, 0);
  assert.deepEqual(new Set(target.hits), new Set(['m0', 'm1', 'm2', 'm3', 'm4']));

  failing = true;
  const short = new HookDeliverer(hook(target.url, { retryWindowMs: 0 }), {
    maxQueue: 5, maxInFlight: 1, backoffBaseMs: 50, backoffCapMs: 100, now: Date.now, random: () => 0.99,
    count: (result, reason) => { if (result === 'dropped' && reason !== undefined) drops.push(reason); },
  });
  short.enqueue('w', '{}');
  while (short.counts.dropped === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(drops.at(-1), 'retry_window');
  assert.equal(short.counts.retried, 0);

  const closing = new HookDeliverer(hook(target.url), {
    maxQueue: 5, maxInFlight: 1, backoffBaseMs: 10_000, backoffCapMs: 10_000, now: Date.now, random: () => 0.5,
    count: (result, reason) => { if (result === 'dropped' && reason !== undefined) drops.push(reason); },
  });
  closing.enqueue('c1', '{}');
  closing.enqueue('c2', '{}');
  while (closing.counts.retried === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  closing.close();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(closing.counts.dropped, 2);
  assert.equal(closing.held, 0);
  d.close();
  short.close();
  target.server.closeAllConnections();
  await new Promise<void>((r) => target.server.close(() => r()));
});
