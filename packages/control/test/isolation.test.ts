// Must-show 3 and 4 over real sockets with a control plane: tenant isolation on every edge
// (EDGES: adding an edge is one line), and a flood from one tenant at 10x its limit refused
// with ERR:rate_limited while another tenant on the same relay receives every message.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWs, http, metricValue, scrapeMetrics, waitFor, type Client, type Relay } from '../../relay/test/conformance/helpers.js';
import { ControlEnv, getToken, grant } from './harness.js';

/** What the isolation test needs from a client of one edge. */
interface EdgeClient {
  /** 'ok' on OK:SUB, else the ERR text. */
  sub(tenant: string, pattern: string): Promise<string>;
  /** Publishes and returns the ERR text the relay answered, or 'none' if it answered nothing. */
  publishExpectErr(tenant: string, channel: string, payload: string): Promise<string>;
  /** Payloads delivered within `ms`. */
  drain(ms: number): Promise<string[]>;
  close(): Promise<void>;
}

function wsClient(c: Client): EdgeClient {
  const delivered: string[] = [];
  /** Next text frame; deliveries met on the way are kept for drain(). */
  const nextText = async (): Promise<string> => {
    for (;;) {
      const m = await c.next();
      if (!m.binary) return m.data.toString('utf8');
      delivered.push(decodePayload(m.data));
    }
  };
  return {
    async sub(tenant, pattern) {
      c.sendText(`SUB:${tenant}:${pattern}`);
      const t = await nextText();
      return t === `OK:SUB:${tenant}:${pattern}` ? 'ok' : t;
    },
    async publishExpectErr(tenant, channel, payload) {
      c.publish(tenant, channel, payload);
      c.sendText('PING');
      const t = await nextText();
      if (t === 'PONG') return 'none';
      assert.equal(await nextText(), 'PONG');
      return t;
    },
    async drain(ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        try {
          const m = await c.next(Math.max(1, deadline - Date.now()));
          if (m.binary) delivered.push(decodePayload(m.data));
        } catch {
          return delivered.splice(0);
        }
      }
    },
    close: () => c.close(),
  };
}

function decodePayload(frame: Buffer): string {
  let o = 1;
  o += 2 + frame.readUInt16BE(o);
  o += 2 + frame.readUInt16BE(o);
  const len = frame.readUInt32BE(o);
  return frame.subarray(o + 4, o + 4 + len).toString('utf8');
}

const EDGES: Array<{ name: string; connect(relay: Relay, token: string): Promise<EdgeClient> }> = [
  { name: 'ws', connect: async (relay, token) => wsClient(await connectWs(relay.wsUrl, token)) },
  // { name: 'quic', connect: ... } — one line when the QUIC edge lands.
];

const env = new ControlEnv();
const open: EdgeClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await env.cleanup();
});

for (const edge of EDGES) {
  test(`${edge.name}: a token for tenant A can neither publish nor subscribe on tenant B`, async () => {
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
    assert.equal(await b.sub('tenB', '#'), 'ok');
    assert.equal(await a.sub('tenA', '#'), 'ok');
    assert.match(await a.sub('tenB', '#'), /^ERR:permission_denied/);
    assert.match(await a.sub('tenB', 'x.y'), /^ERR:permission_denied/);
    assert.match(await a.publishExpectErr('tenB', 'x.y', 'intrusion'), /^ERR:permission_denied/);
    assert.equal(await b.publishExpectErr('tenB', 'x.y', 'own'), 'none');
    assert.equal(await a.publishExpectErr('tenA', 'x.y', 'mine'), 'none');
    assert.deepEqual(await b.drain(200), ['own']);
    assert.deepEqual(await a.drain(200), ['mine']);
  });
}

test('ws: a flood at 10x one tenant\'s limit is refused with ERR:rate_limited; another tenant on the same relay receives every message', async () => {
  const control = await env.control();
  for (const id of ['noisy', 'quiet']) assert.equal((await http(control.url, 'POST', '/v1/tenants', { body: { id } })).status, 201);
  const RATE = 100;
  assert.equal((await http(control.url, 'PUT', '/v1/tenants/noisy/limits', { body: { messagesPerSecond: RATE } })).status, 200);
  assert.equal((await http(control.url, 'PUT', '/v1/tenants/quiet/limits', { body: { messagesPerSecond: 10_000 } })).status, 200);
  const relay = await env.relay([control.url]); // starts from the snapshot, limits included
  const tokN = await getToken(relay.httpUrl, { tenant_grants: [grant('noisy')] });
  const tokQ = await getToken(relay.httpUrl, { tenant_grants: [grant('quiet')] });
  const noisyPub = await env.connect(relay, tokN);
  const noisySub = await env.connect(relay, tokN);
  const quietPub = await env.connect(relay, tokQ);
  const quietSub = await env.connect(relay, tokQ);
  await noisySub.sub('noisy', 'f.#');
  await quietSub.sub('quiet', 'q.#');

  let errs = 0;
  let other = 0;
  noisyPub.ws.on('message', (d: Buffer, binary: boolean) => {
    if (binary) return;
    if (d.toString() === 'ERR:rate_limited') errs++;
    else other++;
  });
  const quietGot: number[] = [];
  quietSub.ws.on('message', (d: Buffer, binary: boolean) => {
    if (binary) quietGot.push(Number(decodePayload(d)));
  });
  let noisyGot = 0;
  noisySub.ws.on('message', (_d: Buffer, binary: boolean) => {
    if (binary) noisyGot++;
  });

  // 2 s at 10x the limit (1000 msg/s in 20 ms batches), while the quiet tenant sends 100 msg/s.
  const DURATION_MS = 2000;
  const FLOOD = 10 * RATE * (DURATION_MS / 1000);
  const QUIET = 200;
  const t0 = Date.now();
  let sentN = 0;
  let sentQ = 0;
  while (sentN < FLOOD || sentQ < QUIET) {
    const due = Math.min(FLOOD, Math.ceil(((Date.now() - t0) / DURATION_MS) * FLOOD));
    for (; sentN < due; sentN++) noisyPub.publish('noisy', 'f.x', `n${sentN}`);
    const dueQ = Math.min(QUIET, Math.ceil(((Date.now() - t0) / DURATION_MS) * QUIET));
    for (; sentQ < dueQ; sentQ++) quietPub.publish('quiet', 'q.x', String(sentQ));
    await new Promise((r) => setTimeout(r, 20));
  }
  await quietPub.ping(5000);
  await waitFor(() => errs + noisyGot >= FLOOD && quietGot.length >= QUIET, 5000, 'every publish answered or delivered');
  await new Promise((r) => setTimeout(r, 100));

  assert.deepEqual(quietGot, Array.from({ length: QUIET }, (_, i) => i), 'the quiet tenant receives every message, in order');
  assert.equal(other, 0);
  assert.equal(errs + noisyGot, FLOOD, 'every noisy publish is either delivered or refused');
  // Allowed: the 1 s burst plus the rate over the run (generous bounds for timer jitter).
  const elapsed = (Date.now() - t0) / 1000;
  assert.ok(noisyGot <= RATE + RATE * elapsed + 10, `noisy delivered ${noisyGot} in ${elapsed.toFixed(2)} s`);
  assert.ok(noisyGot >= RATE, `noisy delivered only ${noisyGot}`);
  assert.ok(errs >= FLOOD * 0.8, `only ${errs} refusals`);
  const text = await scrapeMetrics(relay);
  assert.equal(metricValue(text, 'fastpubsub_rate_limited_total', { scope: 'tenant' }), errs);
  // Usage reaches the control plane (messages counted at the PoP, reported every 500 ms).
  const deadline = Date.now() + 3000;
  for (;;) {
    const u = (await http(control.url, 'GET', '/v1/tenants/quiet/usage')).json as { messages: number };
    if (u.messages >= QUIET) break;
    assert.ok(Date.now() < deadline, `usage not reported: ${JSON.stringify(u)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

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
