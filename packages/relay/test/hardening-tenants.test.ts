// Per-tenant capacity and bounded matching cost over real sockets: one tenant at its
// connection limit cannot lock out another (WebSocket and QUIC), SUB patterns over the
// complexity limits are refused with a clear code, a tenant's distinct patterns are capped,
// and a delivery frame lists at most maxDeliveryPatterns patterns.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { QuicEdgeClient } from '@fastpubsub/client/quic';
import { TestEnv, broadGrant, expectErr, type Client } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
afterEach(() => env.cleanup());

test('a tenant at its connection limit is refused (WS 429, QUIC ERR) while another tenant connects and is served', async () => {
  const relay = await env.relay({ limits: { maxConnectionsPerTenant: 3 } });
  const tokenA = await env.token(relay, { tenant_grants: [broadGrant(['tA'])] });
  const tokenB = await env.token(relay, { tenant_grants: [broadGrant(['tB'])] });
  const flood: Client[] = [];
  for (let i = 0; i < 3; i++) flood.push(await env.connect(relay, tokenA));
  await assert.rejects(env.connect(relay, tokenA), /HTTP 429/);
  const quicRefused = await QuicEdgeClient.connect({ host: '127.0.0.1', port: relay.quicPort as number, token: tokenA, caPem: relay.quicCaPem })
    .then(async (q) => {
      try {
        await q.ping();
        return 'accepted';
      } catch {
        return 'refused';
      } finally {
        await q.closed();
      }
    })
    .catch(() => 'refused');
  assert.equal(quicRefused, 'refused');
  // Tenant B is not affected.
  const b1 = await env.connect(relay, tokenB);
  const b2 = await env.connect(relay, tokenB);
  await b1.sub('tB', 'a.x');
  b2.publish('tB', 'a.x', 'hello');
  assert.equal((await b1.nextDelivery()).payload.toString(), 'hello');
  // A slot freed by tenant A is usable again.
  await (flood.pop() as Client).close();
  const again = await env.connect(relay, tokenA);
  await again.ping();
});

test('SUB patterns over the token or wildcard limits get ERR:pattern_too_complex; a tenant pattern cap gives too_many_subscriptions', async () => {
  const relay = await env.relay({ quic: { enabled: false }, limits: { maxPatternTokens: 6, maxPatternWildcards: 2, maxWildcardPatternsPerTenant: 2 } });
  const token = await env.token(relay, { tenant_grants: [{ tenant_ids: ['t1', 't2'], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }] });
  const c = await env.connect(relay, token);
  // Each refusal is ERR first, then the inert OK:SUB of contract §11.8.
  c.sendText('SUB:t1:a.b.c.d.e.f.g');
  assert.equal(await expectErr(c, 'pattern_too_complex'), 'ERR:pattern_too_complex:SUB:t1:a.b.c.d.e.f.g');
  assert.equal(await c.nextText(), 'OK:SUB:t1:a.b.c.d.e.f.g');
  c.sendText('SUB:t1:a.*.*.*');
  await expectErr(c, 'pattern_too_complex');
  assert.equal(await c.nextText(), 'OK:SUB:t1:a.*.*.*');
  await c.sub('t1', 'a.*.*');
  await c.sub('t1', 'b.#');
  c.sendText('SUB:t1:d.*');
  await expectErr(c, 'too_many_subscriptions');
  assert.equal(await c.nextText(), 'OK:SUB:t1:d.*');
  // Literal patterns cost one lookup per token: not capped by the wildcard budget.
  await c.sub('t1', 'a.b.c.d.e.f');
  await c.sub('t1', 'c');
  // The same pattern from another connection adds no pattern: allowed.
  const other = await env.connect(relay, token);
  await other.sub('t1', 'b.#');
  // Another tenant has its own budget.
  await other.sub('t2', 'd.*');
  other.publish('t2', 'd.x', 'x');
  assert.equal((await other.nextDelivery()).payload.toString(), 'x');
});

test('a delivery frame lists at most maxDeliveryPatterns matching patterns', async () => {
  const relay = await env.relay({ quic: { enabled: false }, limits: { maxDeliveryPatterns: 3 } });
  const c = await env.client(relay);
  const patterns = ['a.#', 'a.b.#', 'a.*.c', 'a.b.*', 'a.b.c', 'a.*.*'];
  for (const p of patterns) await c.sub('t1', p);
  c.publish('t1', 'a.b.c', 'p');
  const d = await c.nextDelivery();
  assert.equal(d.patterns.length, 3);
  assert.equal(new Set(d.patterns).size, 3, 'listed once each');
  for (const p of d.patterns) assert.ok(patterns.includes(p), `${p} is one of the matching subscriptions`);
});

test("a tenant past its fan-out budget gets ERR:rate_limited and delivers nothing more; another tenant's fan-out is untouched", async () => {
  const relay = await env.relay({ quic: { enabled: false }, limits: { maxDeliveriesPerTenantPerSecond: 20 } });
  const subs: Client[] = [];
  for (let i = 0; i < 5; i++) {
    const s = await env.client(relay);
    await s.sub('t1', 'a.fan');
    await s.sub('t2', 'a.fan');
    subs.push(s);
  }
  const pub = await env.client(relay);
  // Each publish costs 1 + 5 deliveries: three fit in a budget of 20, the fourth does not.
  for (let i = 0; i < 4; i++) pub.publish('t1', 'a.fan', `m${i}`);
  await expectErr(pub, 'rate_limited');
  for (const s of subs) {
    for (let i = 0; i < 3; i++) assert.equal((await s.nextDelivery()).payload.toString(), `m${i}`);
  }
  pub.publish('t2', 'a.fan', 'other');
  for (const s of subs) assert.equal((await s.nextDelivery()).payload.toString(), 'other', 'tenant t2 has its own budget');
});
