// Issue 3 "Bad input": each kind gets the contract's ERR: (or a status / close code), and the
// relay keeps serving everyone else — after each, a well-behaved client still gets its messages.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TestEnv,
  barrier,
  barrierTag,
  collectUntil,
  deliveries,
  expectErr,
  http,
  isoIn,
  sleep,
  within,
  type Client,
  type Relay,
} from '@fastpubsub/testkit/relay';
import { encodePublishV1, encodePublishV2 } from '@fastpubsub/testkit/relay';
import { rawUpgrade } from './rawws.js';

const env = new TestEnv();
afterEach(() => env.cleanup());

interface Fixture {
  relay: Relay;
  /** Asserts a separate, well-behaved pair of clients on the same relay still works. */
  bystanderWorks: () => Promise<void>;
}

async function fixture(opts: Parameters<TestEnv['relay']>[0] = {}): Promise<Fixture> {
  const relay = await env.relay(opts);
  const bystander = await env.client(relay);
  const bpub = await env.client(relay);
  await bystander.sub('t1', 'z.#');
  return {
    relay,
    bystanderWorks: async () => {
      const tag = barrierTag();
      bpub.publish('t1', 'z.ok', tag);
      const before = await collectUntil(bystander, 'z.ok', tag);
      assert.deepEqual(before.map((m) => m.data.toString('hex')), [], 'the bystander got unexpected frames');
      await bpub.ping();
      await bystander.ping();
    },
  };
}

async function status(relay: Relay, opts: Parameters<typeof rawUpgrade>[2]): Promise<number> {
  const r = await rawUpgrade(relay.host, relay.port, opts);
  env.trackSocket(r.socket);
  r.socket.destroy();
  return r.status;
}

/** Sends each bad frame, expects an ERR for each, and checks the sender still works. */
async function eachGetsErr(c: Client, frames: [string, Buffer][], code?: string): Promise<void> {
  for (const [what, frame] of frames) {
    c.sendBinary(frame);
    await expectErr(c, code).catch((e: unknown) => {
      throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }
  await c.ping();
  assert.equal(c.closeInfo, undefined, 'the connection stays open after bad input');
}

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

describe('bad input', () => {
  test('malformed and truncated binary frames get ERR, connection stays open', async () => {
    const f = await fixture();
    const c = await env.client(f.relay);
    await eachGetsErr(c, [
      ['empty frame', Buffer.alloc(0)],
      ['1 byte', Buffer.from([0x00])],
      ['2 bytes', Buffer.from([0x00, 0x02])],
      ['5 bytes (below the 6-byte minimum)', Buffer.from([0x00, 0x01, 0x74, 0x00, 0x01])],
      ['tenant length overruns', Buffer.concat([u16(300), Buffer.from('t1')])],
      ['channel length missing', Buffer.concat([u16(2), Buffer.from('t1'), Buffer.from([0x00])])],
      ['channel length overruns', Buffer.concat([u16(2), Buffer.from('t1'), u16(9), Buffer.from('a.b')])],
      ['v2 tag only', Buffer.from([0x02])],
      ['v2 without body', Buffer.from([0x02, 0x01])],
      ['v2 truncated tenant', Buffer.concat([Buffer.from([0x02, 0x02]), u16(5), Buffer.from('t1')])],
    ]);
    await f.bystanderWorks();
  });

  test('unknown first byte and unknown v2 mode get ERR', async () => {
    const f = await fixture();
    const c = await env.client(f.relay);
    const body = encodePublishV1('t1', 'z.x', 'p');
    await eachGetsErr(c, [
      ['0x01', Buffer.concat([Buffer.from([0x01]), body.subarray(1)])],
      ['0x03', Buffer.concat([Buffer.from([0x03]), body.subarray(1)])],
      ['0x7f', Buffer.concat([Buffer.from([0x7f]), body.subarray(1)])],
      ['0xff', Buffer.concat([Buffer.from([0xff]), body.subarray(1)])],
      ['v2 mode 3', encodePublishV2(3, 't1', 'z.x', 'p')],
      ['v2 mode 255', encodePublishV2(255, 't1', 'z.x', 'p')],
    ]);
    await f.bystanderWorks(); // and none of them was delivered to the z.# bystander
  });

  test('oversized payloads get ERR:payload_too_large', async () => {
    const f = await fixture();
    const c = await env.client(f.relay);
    await eachGetsErr(
      c,
      [
        ['65536 bytes v1', encodePublishV1('t1', 'z.big', Buffer.alloc(65536))],
        ['65536 bytes v2', encodePublishV2(2, 't1', 'z.big', Buffer.alloc(65536))],
      ],
      'payload_too_large',
    );
    // Beyond the largest valid publish (the WebSocket message limit) RFC 6455 makes the relay
    // close with 1009, but the ERR comes first so the client sees why.
    const big = await env.client(f.relay);
    big.sendBinary(encodePublishV1('t1', 'z.big', Buffer.alloc(100_000)));
    await expectErr(big, 'payload_too_large');
    await assert.rejects(big.nextText(2000), /1009/);
    await f.bystanderWorks();
  });

  test('invalid UTF-8 in tenant and channel gets ERR; in a text command ERR or close 1007', async () => {
    const f = await fixture();
    const c = await env.client(f.relay);
    await eachGetsErr(c, [
      ['tenant 0xff', encodePublishV1(Buffer.from([0xff]), 'z.x', 'p')],
      ['tenant overlong NUL', encodePublishV1(Buffer.from([0x74, 0xc0, 0x80]), 'z.x', 'p')],
      ['tenant lone surrogate', encodePublishV1(Buffer.from([0xed, 0xa0, 0x80]), 'z.x', 'p')],
      ['channel truncated sequence', encodePublishV1('t1', Buffer.from([0x7a, 0x2e, 0xe2, 0x82]), 'p')],
    ]);
    // A text frame that is not UTF-8: the issue allows ERR: (preferred, contract §10.3) or a
    // close with a clear code; RFC 6455 names 1007 for it.
    const t = await env.client(f.relay);
    t.sendText(Buffer.concat([Buffer.from('SUB:'), Buffer.from([0xff, 0xfe]), Buffer.from(':z.#')]));
    const outcome = await Promise.race([
      t.next(2000).then((m) => ({ kind: 'msg' as const, text: m.binary ? '<binary>' : m.data.toString('utf8') })),
      t.closed.then((ci) => ({ kind: 'close' as const, code: ci.code, reason: ci.reason })),
    ]);
    if (outcome.kind === 'msg') {
      assert.match(outcome.text, /^ERR:[a-z_]+/, `invalid UTF-8 text command: ${outcome.text}`);
      assert.doesNotMatch(outcome.text, /^OK:/);
      // A refused SUB is still confirmed, inertly, after its ERR (contract §11.8).
      assert.match(await t.nextText(), /^OK:SUB:/);
      await t.ping();
    } else {
      assert.equal(outcome.code, 1007, `invalid UTF-8 text frame closed with ${outcome.code} ${outcome.reason}`);
    }
    await f.bystanderWorks();
  });

  test('bad wildcards in SUB get ERR:invalid_pattern, then an inert OK:SUB', async () => {
    const f = await fixture();
    const c = await env.client(f.relay);
    for (const pat of ['a.#.b', '#.a', 'a.>.b', '>.a', 'a*b', 'a.b*c', 'a..b', '.a', 'a.', '..', 'a b', ' a.b', 'a.b\t']) {
      c.sendText(`SUB:t1:${pat}`);
      const err = await expectErr(c, 'invalid_pattern').catch((e: unknown) => {
        throw new Error(`pattern ${JSON.stringify(pat)}: ${e instanceof Error ? e.message : String(e)}`);
      });
      assert.equal(err, `ERR:invalid_pattern:SUB:t1:${pat}`);
      assert.equal(await c.nextText(), `OK:SUB:t1:${pat}`, 'the inert OK:SUB follows the ERR (contract §11.8)');
    }
    await c.ping();
    await c.expectNothing(100);
    await f.bystanderWorks();
  });

  test('empty tenant or channel in SUB and publish get ERR', async () => {
    const f = await fixture();
    const c = await env.client(f.relay);
    for (const cmd of ['SUB::z.#', 'SUB:t1:', 'SUB::', 'UNSUB::z.#', 'UNSUB:t1:']) {
      c.sendText(cmd);
      await expectErr(c).catch((e: unknown) => {
        throw new Error(`${cmd}: ${e instanceof Error ? e.message : String(e)}`);
      });
      if (cmd.startsWith('SUB:')) assert.equal(await c.nextText(), `OK:${cmd}`, `${cmd}: the inert OK:SUB (contract §11.8)`);
    }
    await eachGetsErr(c, [
      ['empty tenant', encodePublishV1('', 'z.x', 'p')],
      ['empty channel', encodePublishV1('t1', '', 'p')],
      ['both empty', encodePublishV1('', '', '')],
      ['v2 empty tenant', encodePublishV2(1, '', 'z.x', 'p')],
    ]);
    await f.bystanderWorks();
  });

  test('too many subscriptions per connection gets ERR:too_many_subscriptions, then an inert OK:SUB', async () => {
    const f = await fixture({ limits: { maxSubscriptionsPerConnection: 5 } });
    const c = await env.client(f.relay);
    const p = await env.client(f.relay);
    for (let i = 0; i < 5; i++) await c.sub('t1', `a.s${i}`);
    c.sendText('SUB:t1:a.s5');
    assert.equal(await expectErr(c, 'too_many_subscriptions'), 'ERR:too_many_subscriptions:SUB:t1:a.s5');
    assert.equal(await c.nextText(), 'OK:SUB:t1:a.s5', 'the inert OK:SUB follows the ERR (contract §11.8)');
    await c.ping();
    await c.sub('t1', 'a.s0'); // repeating a held SUB is idempotent (contract §10.6), not a sixth one
    // The five held subscriptions still work; the refused one does not.
    p.publish('t1', 'a.s5', 'refused');
    p.publish('t1', 'a.s4', 'held');
    const d = await c.nextDelivery();
    assert.equal(d.channel, 'a.s4');
    assert.deepEqual(d.patterns, ['a.s4']);
    // Freeing a slot allows a new one.
    await c.unsub('t1', 'a.s0');
    await c.sub('t1', 'a.s5');
    // The limit is per connection: another connection on the same relay is unaffected.
    const other = await env.client(f.relay);
    for (let i = 0; i < 5; i++) await other.sub('t1', `a.o${i}`);
    await f.bystanderWorks();
  });

  test('bad, expired and revoked tokens: 401 on upgrade; revocation closes live connections with 1008', async () => {
    const f = await fixture();
    const { relay } = f;
    assert.equal(await status(relay, { protocol: 'llps.v1,at.AT_nope_nope' }), 401);
    assert.equal(await status(relay, { protocol: 'llps.v1,at.' }), 401);
    assert.equal(await status(relay, { protocol: 'llps.v1,at.AT_' + 'a'.repeat(5000) }), 401);

    const revokable = await env.token(relay);
    const live = await env.connect(relay, revokable);
    await live.sub('t1', 'a.#');
    const expiring = await env.token(relay, { expires_at: isoIn(1200) });
    const expiringAt = Date.now() + 1200;
    const survivor = await env.connect(relay, expiring);

    const r = await http(relay.httpUrl, 'DELETE', '/v1/revoke-token', { body: { token: revokable } });
    assert.ok(r.status >= 200 && r.status < 300, `revoke: ${r.status} ${r.text}`);
    const closed = await within(live.closed, 2000, 'revocation to close the live connection');
    assert.equal(closed.code, 1008, `revoked connection closed with ${closed.code} ${closed.reason}`);
    assert.equal(await status(relay, { protocol: `llps.v1,at.${revokable}` }), 401);

    // Expired: new upgrades get 401; the live connection stays (contract §10.4).
    await sleep(Math.max(0, expiringAt - Date.now()) + 300);
    assert.equal(await status(relay, { protocol: `llps.v1,at.${expiring}` }), 401);
    await survivor.ping();
    await f.bystanderWorks();
  });

  test('wrong Origin gets 403; matching or absent Origin gets 101', async () => {
    const f = await fixture();
    const token = await env.token(f.relay, { allowed_ws_origin: ['https://app.example.com'] });
    const protocol = `llps.v1,at.${token}`;
    assert.equal(await status(f.relay, { protocol, headers: { Origin: 'https://evil.example.com' } }), 403);
    assert.equal(await status(f.relay, { protocol, headers: { Origin: 'null' } }), 403);
    assert.equal(await status(f.relay, { protocol, headers: { Origin: 'https://app.example.com' } }), 101);
    assert.equal(await status(f.relay, { protocol }), 101); // no Origin (this SDK): allowed, §10.10
    await f.bystanderWorks();
  });

  test('wrong client IP gets 403; a matching mask gets 101; region restriction likewise', async () => {
    const f = await fixture({ region: 'EU' });
    const denied = await env.token(f.relay, { allow_ip_masks: ['10.0.0.0/8'] });
    assert.equal(await status(f.relay, { protocol: `llps.v1,at.${denied}` }), 403);
    const allowed = await env.token(f.relay, { allow_ip_masks: ['127.0.0.0/8'] });
    assert.equal(await status(f.relay, { protocol: `llps.v1,at.${allowed}` }), 101);
    const exact = await env.token(f.relay, { allow_ip_masks: ['10.1.2.3', '127.0.0.1'] });
    assert.equal(await status(f.relay, { protocol: `llps.v1,at.${exact}` }), 101);
    const wrongRegion = await env.token(f.relay, { allow_regions: ['US'] });
    assert.equal(await status(f.relay, { protocol: `llps.v1,at.${wrongRegion}` }), 403);
    const rightRegion = await env.token(f.relay, { allow_regions: ['EU'] });
    assert.equal(await status(f.relay, { protocol: `llps.v1,at.${rightRegion}` }), 101);
    await f.bystanderWorks();
  });

  test('unknown text commands get ERR:bad_command', async () => {
    const f = await fixture();
    const c = await env.client(f.relay);
    for (const cmd of ['PING 42', 'HELLO', 'sub:t1:z.#', 'PONG', 'SUBSCRIBE:t1:z.#', '']) {
      c.sendText(cmd);
      await expectErr(c, 'bad_command').catch((e: unknown) => {
        throw new Error(`${JSON.stringify(cmd)}: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
    await c.ping();
    await f.bystanderWorks();
  });

  test('a flood of bad input from one client does not disturb another', async () => {
    const f = await fixture();
    const bad = await env.client(f.relay);
    const good = await env.client(f.relay);
    const gpub = await env.client(f.relay);
    await good.sub('t1', 'x.#');
    for (let i = 0; i < 200; i++) {
      bad.sendBinary(Buffer.from([0xee, i & 0xff, 0x00]));
      bad.sendText(`NOPE ${i}`);
      gpub.publish('t1', 'x.seq', String(i));
    }
    for (let i = 0; i < 200; i++) assert.equal((await good.nextDelivery()).payload.toString(), String(i));
    let errs = 0;
    while (errs < 400) {
      await expectErr(bad);
      errs++;
    }
    await bad.ping();
    assert.deepEqual(deliveries(await barrier(gpub, good, 't1', 'x.end')), []);
    await f.bystanderWorks();
  });
});
