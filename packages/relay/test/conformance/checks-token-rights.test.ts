// Contract v0.1 §11.7 and §11.10 checks 33–35 on the WebSocket edge: the token rights
// `allow_protocols`, `ingress_kb_per_sec` and `egress_kb_per_sec` are validated at mint time
// (400 naming the field), stored as applied (an omitted rate gets the relay's configured
// default) and enforced per connection (403 at the upgrade; rates by dropping, never closing).
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { quicEdge } from '@fastpubsub/testkit/relay';
import { TestEnv, connectWs, http, metricValue, scrapeMetrics, sleep, tokenBody, type Client, type Relay } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
afterEach(() => env.cleanup());

async function mint(relay: Relay, extraRight: Record<string, unknown>): Promise<{ status: number; text: string; token?: string }> {
  const body = tokenBody();
  Object.assign(body['right'] as Record<string, unknown>, extraRight);
  const r = await http(relay.httpUrl, 'POST', '/v1/get-token', { body });
  return { status: r.status, text: r.text, token: (r.json as { token?: string } | undefined)?.token };
}

async function mintOk(relay: Relay, extraRight: Record<string, unknown>): Promise<string> {
  const r = await mint(relay, extraRight);
  assert.equal(r.status, 200, `get-token ${JSON.stringify(extraRight)}: ${r.status} ${r.text}`);
  return r.token!;
}

async function upgradeStatus(relay: Relay, token: string): Promise<number> {
  try {
    const c = env.track(await connectWs(relay.wsUrl, token));
    await c.close();
    return 101;
  } catch (err) {
    const m = /HTTP (\d{3})/.exec(String(err));
    assert.ok(m, `upgrade failed without an HTTP status: ${String(err)}`);
    return Number(m[1]);
  }
}

/** Receives deliveries for `ms` and returns how many payload bytes arrived. */
async function receiveFor(c: Client, ms: number): Promise<{ messages: number; bytes: number }> {
  let messages = 0;
  let bytes = 0;
  const end = Date.now() + ms;
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) return { messages, bytes };
    try {
      const d = await c.nextDelivery(left);
      messages++;
      bytes += d.payload.length;
    } catch (err) {
      if (String(err).includes('no message within')) return { messages, bytes };
      throw err;
    }
  }
}

describe('contract v0.1 §11.7: token rights (checks 33–35)', () => {
  test('check 33: allow_protocols is enforced at the WebSocket upgrade; unknown names get 400', async () => {
    const relay = await env.relay();
    assert.equal(await upgradeStatus(relay, await mintOk(relay, { allow_protocols: ['websocket'] })), 101);
    assert.equal(await upgradeStatus(relay, await mintOk(relay, { allow_protocols: ['WebSocket', 'webtransport'] })), 101, 'names compare case-insensitively');
    assert.equal(await upgradeStatus(relay, await mintOk(relay, { allow_protocols: ['webtransport'] })), 403);
    assert.equal(await upgradeStatus(relay, await mintOk(relay, {})), 101, 'absent: every protocol');
    assert.equal(await upgradeStatus(relay, await mintOk(relay, { allow_protocols: [] })), 101, '[] is treated as absent');
    for (const bad of [['ws'], ['carrier-pigeon'], 'websocket', [1]]) {
      const r = await mint(relay, { allow_protocols: bad });
      assert.equal(r.status, 400, `allow_protocols ${JSON.stringify(bad)}: ${r.status} ${r.text}`);
      assert.match(r.text, /allow_protocols/, 'the 400 names the field');
    }
  });

  test('allow_protocols on the native QUIC edge: a token without quic is refused (forbidden), one with it is served', async () => {
    const relay = await env.relay();
    assert.equal(await quicEdge.connectRefused(relay, await mintOk(relay, { allow_protocols: ['websocket'] })), 'forbidden');
    const c = await quicEdge.connect(relay, await mintOk(relay, { allow_protocols: ['quic'] }));
    await c.subscribe('t1', 'a.#');
    await c.close();
    assert.equal(await upgradeStatus(relay, await mintOk(relay, { allow_protocols: ['quic'] })), 403, 'and that one gets 403 on WebSocket');
  });

  test('check 34: rates of 8 and 16384 get 2xx; 7, 16385, -1, 1.5 and "64" get 400 naming the field', async () => {
    const relay = await env.relay();
    for (const field of ['ingress_kb_per_sec', 'egress_kb_per_sec']) {
      for (const ok of [8, 16384]) await mintOk(relay, { [field]: ok });
      for (const bad of [7, 16385, -1, 1.5, '64', null]) {
        const r = await mint(relay, { [field]: bad });
        assert.equal(r.status, 400, `${field} ${JSON.stringify(bad)}: ${r.status} ${r.text}`);
        assert.match(r.text, new RegExp(field), 'the 400 names the field');
      }
    }
  });

  test('check 35: egress 8 KB/s: a fast publisher\'s subscriber gets about 8 KiB/s, a 64 KiB message still passes, the connection stays open', async () => {
    const relay = await env.relay();
    const sub = await env.connect(relay, await mintOk(relay, { egress_kb_per_sec: 8 }));
    const pub = await env.client(relay);
    await sub.sub('t1', 'a.#');
    pub.publish('t1', 'a.big', Buffer.alloc(65535, 7));
    const big = await sub.nextDelivery();
    assert.equal(big.payload.length, 65535, 'one maximum message passes: the bucket holds a whole frame');

    // 1 KiB messages at ~250/s (about 30× the limit) for 3 s.
    const payload = Buffer.alloc(1024, 1);
    const floodMs = 3000;
    const flooding = (async () => {
      const end = Date.now() + floodMs;
      while (Date.now() < end) {
        for (let i = 0; i < 5; i++) pub.publish('t1', 'a.flood', payload);
        await sleep(20);
      }
    })();
    const got = await receiveFor(sub, floodMs + 300);
    await flooding;
    const kib = got.bytes / 1024;
    // ≈ 8 KiB/s × 3 s plus what was left of the burst after the 64 KiB message (~2 KiB).
    assert.ok(kib >= 14 && kib <= 45, `received ${kib.toFixed(1)} KiB in ${floodMs} ms at egress 8 KB/s`);
    assert.equal(sub.closeInfo, undefined, 'the connection stays open');
    await sub.ping();
    const dropped = metricValue(await scrapeMetrics(relay), 'fastpubsub_dropped_messages_total', { reason: 'rate_limited' }) ?? 0;
    assert.ok(dropped > 100, `deliveries over the limit are dropped and counted (${dropped})`);
  });

  test('ingress 8 KB/s: publishes over the limit are dropped with at most one ERR:rate_limited per second, never a close', async () => {
    const relay = await env.relay();
    const pub = await env.connect(relay, await mintOk(relay, { ingress_kb_per_sec: 8 }));
    const sub = await env.client(relay);
    await sub.sub('t1', 'a.#');
    const payload = Buffer.alloc(1024, 2);
    for (let i = 0; i < 200; i++) pub.publish('t1', 'a.in', payload); // 200 KiB at once: ~66 pass
    const first = await receiveFor(sub, 500);
    assert.ok(first.messages >= 60 && first.messages <= 70, `${first.messages} of 200 passed the 66 KiB burst`);
    let errs = 0;
    while (pub.pending > 0) {
      const t = await pub.nextText(100);
      assert.equal(t, 'ERR:rate_limited:ingress_kb_per_sec');
      errs++;
    }
    assert.equal(errs, 1, 'one ERR for a burst within one second');
    await sleep(1100);
    for (let i = 0; i < 20; i++) pub.publish('t1', 'a.in', payload); // ~9 KiB refilled: a few pass
    const second = await receiveFor(sub, 500);
    assert.ok(second.messages >= 5 && second.messages <= 14, `${second.messages} passed after 1.1 s at 8 KiB/s`);
    assert.equal(await pub.nextText(), 'ERR:rate_limited:ingress_kb_per_sec', 'the next second may carry one more ERR');
    await pub.ping();
    assert.equal(pub.closeInfo, undefined, 'the connection stays open');
  });

  test('omitted rates get the relay\'s configured default at mint time (16384 unless changed), not 8', async () => {
    const strict = await env.relay({ limits: { defaultEgressKbPerSec: 8 } });
    const open = await env.relay();
    for (const [relay, limited] of [[strict, true], [open, false]] as const) {
      const sub = await env.connect(relay, await mintOk(relay, {}));
      const pub = await env.client(relay);
      await sub.sub('t1', 'a.#');
      const payload = Buffer.alloc(4096, 3);
      for (let i = 0; i < 100; i++) pub.publish('t1', 'a.d', payload); // 400 KiB
      const got = await receiveFor(sub, 700);
      if (limited) assert.ok(got.messages < 25, `default 8 KB/s: ${got.messages} of 100 passed`);
      else assert.equal(got.messages, 100, 'default 16384 KB/s: nothing dropped');
    }
  });
});
