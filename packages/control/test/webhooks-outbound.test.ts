// Outbound webhooks over real sockets: a relay following a control plane POSTs matching
// messages to a real local HTTP server, signed per Standard Webhooks; a target failing the
// first attempts gets the message once after retries (counted in /metrics and in the hook's
// status); a target that hangs does not delay another hook; a message past the retry window is
// dropped and counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { http, metricValue, scrapeMetrics, waitFor, type Relay } from '@fastpubsub/testkit/relay';
import type { Control } from '@fastpubsub/control';
import { ControlEnv, getToken, grant } from './harness.js';
import { createHook, Receiver, verifiesStandard, waitForInbound } from './webhook-helpers.js';

const env = new ControlEnv();
const receivers: Receiver[] = [];
let control: Control;
let relay: Relay;
let token: string;
after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await env.cleanup();
});

before(async () => {
  control = await env.control();
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'shop' } })).status, 201);
  relay = await env.relay([control.url]);
  token = await getToken(relay.httpUrl, { tenant_grants: [grant('shop')] });
});

async function receiver(answer?: ConstructorParameters<typeof Receiver>[0]): Promise<Receiver> {
  const r = await new Receiver(answer).start();
  receivers.push(r);
  return r;
}

/** Registers outbound hooks, then waits until the relay has them (an inbound marker created after them arrives). */
async function outboundHooks(specs: object[]): Promise<Array<{ id: string; secret: string }>> {
  const hooks: Array<{ id: string; secret: string }> = [];
  for (const s of specs) hooks.push((await createHook(control.url, 'shop', 'outbound', s)) as { id: string; secret: string });
  const marker = await createHook(control.url, 'shop', 'inbound', { scheme: 'none', channel: 'marker.x' });
  await waitForInbound(relay.httpUrl, marker.id);
  return hooks;
}

async function publish(channel: string, body: string): Promise<string> {
  const res = await fetch(`${relay.httpUrl}/v1/publish/shop/${channel}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
  assert.equal(res.status, 202);
  return ((await res.json()) as { id: string }).id;
}

test('a target failing the first 3 attempts gets the message once, signed; retries counted in /metrics and the hook status', async () => {
  const target = await receiver((n) => (n <= 3 ? 500 : 200));
  const [hook] = await outboundHooks([{ pattern: 'orders.#', url: target.url, timeoutMs: 2000 }]);
  const before = await scrapeMetrics(relay);
  const id = await publish('orders.eu.42', '{"total":99.5}');
  await waitFor(() => target.received.length >= 4, 20_000, 'the fourth attempt');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(target.received.length, 4, 'no POST after the successful one');
  const ids = new Set(target.received.map((r) => r.headers['webhook-id']));
  assert.deepEqual([...ids], [`msg_${id}`], 'every attempt carries the same webhook-id');
  for (const r of target.received) assert.ok(verifiesStandard(hook!.secret, r.headers, r.body), 'the receiver verifies each attempt');
  const last = target.received[3]!;
  assert.ok(!verifiesStandard('whsec_' + Buffer.alloc(24).toString('base64'), last.headers, last.body), 'a wrong secret does not verify');
  const env1 = JSON.parse(last.body.toString('utf8')) as { type: string; data: { tenant: string; channel: string; id: string; text: string } };
  assert.equal(env1.type, 'message.published');
  assert.deepEqual(env1.data, { tenant: 'shop', channel: 'orders.eu.42', id, text: '{"total":99.5}' });
  // The attempts are spaced by backoff (full jitter: only an upper bound holds), within the window.
  assert.ok(last.atMs - target.received[0]!.atMs < 15_000);

  const m = await scrapeMetrics(relay);
  const delta = (result: string): number => (metricValue(m, 'fastpubsub_webhook_deliveries_total', { result }) ?? 0) - (metricValue(before, 'fastpubsub_webhook_deliveries_total', { result }) ?? 0);
  assert.equal(delta('delivered'), 1);
  assert.equal(delta('retried'), 3);
  assert.equal(delta('dropped'), 0);
  await waitFor(async () => {
    const s = (await http(control.url, 'GET', `/v1/tenants/shop/hooks/outbound/${hook!.id}`)).json as { status: { delivered: number; retried: number } };
    return s.status.delivered === 1 && s.status.retried === 3;
  }, 5000, 'the hook status in the control plane');
  const listed = (await http(control.url, 'GET', '/v1/tenants/shop/hooks/outbound')).json as { hooks: Array<{ id: string; secret?: string }> };
  assert.equal(listed.hooks.find((h) => h.id === hook!.id)?.secret, undefined);
});

test('a target that hangs does not delay another hook; its attempts time out and are retried', async () => {
  const hanging = await receiver(() => 'hang');
  const healthy = await receiver(() => 204);
  await outboundHooks([
    { pattern: 'slow.#', url: hanging.url, timeoutMs: 1000, retryWindowMs: 60_000 },
    { pattern: 'slow.#', url: healthy.url, timeoutMs: 1000 },
  ]);
  const before = await scrapeMetrics(relay);
  const t0 = Date.now();
  for (let i = 0; i < 30; i++) await publish('slow.a', `m${i}`);
  await waitFor(() => healthy.received.length >= 30, 5000, 'all 30 at the healthy hook');
  const healthyDone = Date.now() - t0;
  assert.ok(healthyDone < 3000, `the healthy hook took ${healthyDone} ms`);
  assert.equal(new Set(healthy.received.map((r) => r.headers['webhook-id'])).size, 30);
  // The hanging hook holds at most its own in-flight slots (16): the rest wait in its queue.
  assert.equal(hanging.maxHanging, 16, `${hanging.maxHanging} concurrent attempts at the hanging target`);
  await waitFor(async () => {
    const m = await scrapeMetrics(relay);
    return (metricValue(m, 'fastpubsub_webhook_deliveries_total', { result: 'retried' }) ?? 0) > (metricValue(before, 'fastpubsub_webhook_deliveries_total', { result: 'retried' }) ?? 0);
  }, 5000, 'timed-out attempts counted as retried');
  assert.ok((metricValue(await scrapeMetrics(relay), 'fastpubsub_webhook_queued') ?? 0) > 0);
});

test('a target failing past the retry window: the message is dropped and counted; messages of other patterns are not sent', async () => {
  const failing = await receiver(() => 503);
  const [hook] = await outboundHooks([{ pattern: 'doomed.*', url: failing.url, timeoutMs: 500, retryWindowMs: 1500 }]);
  const before = await scrapeMetrics(relay);
  await publish('doomed.one', 'x');
  await publish('other.one', 'not for this hook');
  await waitFor(async () => {
    const m = await scrapeMetrics(relay);
    return (metricValue(m, 'fastpubsub_webhook_dropped_total', { reason: 'retry_window' }) ?? 0) > (metricValue(before, 'fastpubsub_webhook_dropped_total', { reason: 'retry_window' }) ?? 0);
  }, 10_000, 'the drop past the retry window');
  const attempts = failing.received.length;
  assert.ok(attempts >= 1 && attempts < 30, `${attempts} attempts`);
  assert.ok(failing.received.every((r) => (JSON.parse(r.body.toString()) as { data: { channel: string } }).data.channel === 'doomed.one'));
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(failing.received.length, attempts, 'no attempt after the drop');
  await waitFor(async () => {
    const s = (await http(control.url, 'GET', `/v1/tenants/shop/hooks/outbound/${hook!.id}`)).json as { status: { dropped: number } };
    return s.status.dropped === 1;
  }, 5000, 'dropped in the hook status');
});

test('an http:// target beyond loopback is refused at delivery and counted (nothing leaves the machine)', async () => {
  await outboundHooks([{ pattern: 'ext.#', url: 'http://198.51.100.7/hook' }]);
  const before = await scrapeMetrics(relay);
  await publish('ext.a', 'x');
  const m = await scrapeMetrics(relay);
  const d = (metricValue(m, 'fastpubsub_webhook_dropped_total', { reason: 'target_not_allowed' }) ?? 0) - (metricValue(before, 'fastpubsub_webhook_dropped_total', { reason: 'target_not_allowed' }) ?? 0);
  assert.equal(d, 1);
});
