// Must-show 3 and 4 over real sockets with a control plane: tenant isolation on every edge
// (EDGES: the relay's edge-suite factories, WebSocket and QUIC), and a flood from one tenant at 10x its limit refused
// with ERR:rate_limited while another tenant on the same relay receives every message.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWs, http, metricValue, scrapeMetrics, waitFor } from '@fastpubsub/testkit/relay';
import type { EdgeClient, EdgeFactory } from '@fastpubsub/testkit/relay';
import { quicEdge } from '@fastpubsub/testkit/relay';
import { wsEdge } from '@fastpubsub/testkit/relay';
import { ControlEnv, getToken, grant } from './harness.js';

/** Every client edge, from the relay's edge conformance suite: adding an edge is one line there. */
const EDGES: EdgeFactory[] = [wsEdge, quicEdge];

const env = new ControlEnv();
const open: EdgeClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await env.cleanup();
});

for (const edge of EDGES) {
  test(`${edge.kind}: a token for tenant A can neither publish nor subscribe on tenant B`, async () => {
    const control = await env.control();
    for (const id of ['tenA', 'tenB']) assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id } })).status, 201);
    const mtA = (await http(control.url, 'POST', '/v1/tenants/tenA/master-tokens', { body: {} })).json as { token: string };
    const relay = await env.relay([control.url]);
    // Tenant A's master token issues for A only (through the PoP's contract endpoint), never for B.
    const tokA = await getToken(relay.httpUrl, { tenant_grants: [grant('tenA')] }, mtA.token);
    const forB = await http(relay.httpUrl, 'POST', '/v1/get-token', {
      bearer: mtA.token,
      body: { right: { tenant_grants: [grant('tenB')], expires_at: new Date(Date.now() + 60_000).toISOString() }, created_by: 'x' },
    });
    assert.equal(forB.status, 403, forB.text);
    const tokB = await getToken(relay.httpUrl, { tenant_grants: [grant('tenB')] });

    const a = await edge.connect(relay, tokA);
    const b = await edge.connect(relay, tokB);
    open.push(a, b);
    await b.subscribe('tenB', '#');
    await a.subscribe('tenA', '#');
    assert.equal(await a.subscribeRefused('tenB', '#'), 'permission_denied');
    assert.equal(await a.subscribeRefused('tenB', 'x.y'), 'permission_denied');
    a.publish('tenB', 'x.y', 'intrusion');
    assert.equal(await a.nextError(), 'permission_denied');
    await a.ping();
    b.publish('tenB', 'x.y', 'own');
    const got = await b.nextMessage();
    assert.equal(got.tenant, 'tenB');
    assert.equal(got.payload.toString(), 'own', 'B receives its own message, and never the intrusion');
    a.publish('tenA', 'x.y', 'mine');
    assert.equal((await a.nextMessage()).payload.toString(), 'mine');
    await b.expectNoMessage(200);
    await a.expectNoMessage(0);
  });
}

for (const edge of EDGES) {
  test(`${edge.kind}: a flood at 10x one tenant's limit is refused with rate_limited; another tenant on the same relay receives every message`, async () => {
    const control = await env.control();
    for (const id of ['noisy', 'quiet']) assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id } })).status, 201);
    const RATE = 100;
    assert.equal((await http(control.url, 'PUT', '/v1/tenants/noisy/limits', { body: { messagesPerSecond: RATE } })).status, 200);
    assert.equal((await http(control.url, 'PUT', '/v1/tenants/quiet/limits', { body: { messagesPerSecond: 10_000 } })).status, 200);
    const relay = await env.relay([control.url]); // starts from the snapshot, limits included
    const tokN = await getToken(relay.httpUrl, { tenant_grants: [grant('noisy')] });
    const tokQ = await getToken(relay.httpUrl, { tenant_grants: [grant('quiet')] });
    const [noisyPub, noisySub, quietPub, quietSub] = await Promise.all([tokN, tokN, tokQ, tokQ].map((t) => edge.connect(relay, t)));
    open.push(noisyPub!, noisySub!, quietPub!, quietSub!);
    await noisySub!.subscribe('noisy', 'f.#');
    await quietSub!.subscribe('quiet', 'q.#');

    // 2 s at 10x the limit (1000 msg/s in 20 ms batches), while the quiet tenant sends 100 msg/s.
    const DURATION_MS = 2000;
    const FLOOD = 10 * RATE * (DURATION_MS / 1000);
    const QUIET = 200;
    const t0 = Date.now();
    let sentN = 0;
    let sentQ = 0;
    while (sentN < FLOOD || sentQ < QUIET) {
      const due = Math.min(FLOOD, Math.ceil(((Date.now() - t0) / DURATION_MS) * FLOOD));
      for (; sentN < due; sentN++) noisyPub!.publish('noisy', 'f.x', `n${sentN}`);
      const dueQ = Math.min(QUIET, Math.ceil(((Date.now() - t0) / DURATION_MS) * QUIET));
      for (; sentQ < dueQ; sentQ++) quietPub!.publish('quiet', 'q.x', String(sentQ));
      await new Promise((r) => setTimeout(r, 20));
    }
    const elapsed = (Date.now() - t0) / 1000;
    await quietPub!.ping(); // (not noisyPub: on ws its PONG queues behind the ERRs, read below)

    const quietGot: number[] = [];
    for (let i = 0; i < QUIET; i++) quietGot.push(Number((await quietSub!.nextMessage(3000)).payload.toString()));
    assert.deepEqual(quietGot, Array.from({ length: QUIET }, (_, i) => i), 'the quiet tenant receives every message, in order');
    await quietSub!.expectNoMessage(100);
    let errs = 0;
    for (;;) {
      try {
        assert.equal(await noisyPub!.nextError(1000), 'rate_limited');
        errs++;
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        break;
      }
    }
    let noisyGot = 0;
    for (;;) {
      try {
        await noisySub!.nextMessage(500);
        noisyGot++;
      } catch {
        break;
      }
    }
    assert.equal(errs + noisyGot, FLOOD, `every noisy publish is either delivered (${noisyGot}) or refused (${errs})`);
    // Allowed: the 1 s burst plus the rate over the run (generous bounds for timer jitter).
    assert.ok(noisyGot <= RATE + RATE * elapsed + 10, `noisy delivered ${noisyGot} in ${elapsed.toFixed(2)} s`);
    assert.ok(noisyGot >= RATE, `noisy delivered only ${noisyGot}`);
    const text = await scrapeMetrics(relay);
    assert.equal(metricValue(text, 'fastpubsub_rate_limited_total', { scope: 'tenant' }), errs);
    // Usage reaches the control plane (messages counted at the PoP, reported every 500 ms).
    await waitFor(async () => ((await http(control.url, 'GET', '/v1/tenants/quiet/usage')).json as { messages: number }).messages >= QUIET, 3000, 'usage reported');
  });
}

test('ws: the per-tenant connection limit from the control plane refuses with 429 past it and frees a slot on close', async () => {
  const control = await env.control();
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'few', limits: { maxConnections: 2 } } })).status, 201);
  const relay = await env.relay([control.url]);
  const tok = await getToken(relay.httpUrl, { tenant_grants: [grant('few')] });
  const c1 = await env.connect(relay, tok);
  await env.connect(relay, tok);
  await assert.rejects(connectWs(relay.wsUrl, tok), /HTTP 429/);
  await c1.close();
  await waitFor(async () => {
    try {
      const c = await connectWs(relay.wsUrl, tok);
      env.clients.push(c);
      return true;
    } catch {
      return false;
    }
  }, 2000, 'a slot freed by the close');
});

test('ws: usage aggregated from the PoP enforces a monthly message quota (ERR:rate_limited once over)', async () => {
  const control = await env.control();
  assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'metered', limits: { monthlyMessages: 50 } } })).status, 201);
  const relay = await env.relay([control.url]);
  const tok = await getToken(relay.httpUrl, { tenant_grants: [grant('metered')] });
  const c = await env.connect(relay, tok);
  for (let i = 0; i < 60; i++) c.publish('metered', 'm.x', String(i));
  await c.ping();
  // Reported within 500 ms, aggregated, pushed back as a quota event: publishes are now refused.
  await waitFor(async () => {
    c.publish('metered', 'm.x', 'probe');
    c.sendText('PING');
    let refused = false;
    for (;;) {
      const t = await c.nextText();
      if (t === 'ERR:rate_limited') refused = true;
      if (t === 'PONG') return refused;
    }
  }, 5000, 'quota enforced');
  const u = (await http(control.url, 'GET', '/v1/tenants/metered/usage')).json as { messages: number; bytes: number };
  assert.ok(u.messages >= 60 && u.bytes >= 60, JSON.stringify(u));
});

test('ws: per-IP connection attempts past the configured rate get 429 before the token is even checked', async () => {
  const control = await env.control();
  const relay = await env.relay([control.url], { ipAttemptsPerSecond: 1 }); // burst: 2 s of the rate = 2
  const tok = await getToken(relay.httpUrl, { tenant_grants: [grant('t1')] });
  const statuses: string[] = [];
  for (let i = 0; i < 6; i++) {
    try {
      const c = await connectWs(relay.wsUrl, i % 2 === 0 ? tok : 'AT_bad_token');
      env.clients.push(c);
      statuses.push('101');
    } catch (err) {
      statuses.push(/HTTP (\d+)/.exec(String(err))?.[1] ?? String(err));
    }
  }
  assert.deepEqual(statuses, ['101', '401', '429', '429', '429', '429']);
  const text = await scrapeMetrics(relay);
  assert.equal(metricValue(text, 'fastpubsub_rate_limited_total', { scope: 'ip' }), 4);
});

for (const edge of EDGES) {
  test(`${edge.kind}: a connection flood at 10x one tenant's limit is refused; another tenant connects and receives every message`, async () => {
    const control = await env.control();
    const LIMIT = 5;
    assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'greedy', limits: { maxConnections: LIMIT } } })).status, 201);
    assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id: 'calm' } })).status, 201);
    const relay = await env.relay([control.url]);
    const tokG = await getToken(relay.httpUrl, { tenant_grants: [grant('greedy')] });
    const tokC = await getToken(relay.httpUrl, { tenant_grants: [grant('calm')] });
    let admitted = 0;
    let refused = 0;
    for (let i = 0; i < 10 * LIMIT; i++) {
      try {
        const c = await edge.connect(relay, tokG);
        open.push(c);
        await c.ping();
        admitted++;
      } catch {
        refused++;
      }
    }
    assert.equal(admitted, LIMIT, `greedy admitted ${admitted}`);
    assert.equal(refused, 9 * LIMIT);
    const [pub, sub] = await Promise.all([edge.connect(relay, tokC), edge.connect(relay, tokC)]);
    open.push(pub, sub);
    await sub.subscribe('calm', 'c.#');
    for (let i = 0; i < 20; i++) pub.publish('calm', 'c.x', String(i));
    const got: string[] = [];
    for (let i = 0; i < 20; i++) got.push((await sub.nextMessage(3000)).payload.toString());
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => String(i)));
  });
}
