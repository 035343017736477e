// Contract v0.1 §9 checks 4–16: text commands, delivery frames, matching, modes, limits, grants.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestEnv, barrier, barrierTag, collectUntil, deliveries, expectErr, metricValue, scrapeMetrics, waitFor } from '@fastpubsub/testkit/relay';
import { decodeDelivery, encodeDelivery, encodePublishV1, encodePublishV2, hex } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
afterEach(() => env.cleanup());

describe('contract v0.1 conformance: messaging', () => {
  test('check 4: SUB:t1:a.# gets exactly OK:SUB:t1:a.#; likewise for UNSUB', async () => {
    const relay = await env.relay();
    const c = await env.client(relay);
    c.sendText('SUB:t1:a.#');
    const ok = await c.next();
    assert.equal(ok.binary, false, 'OK:SUB is a text frame');
    assert.equal(ok.data.toString('utf8'), 'OK:SUB:t1:a.#');
    c.sendText('UNSUB:t1:a.#');
    assert.equal(await c.nextText(), 'OK:UNSUB:t1:a.#');
    // Contract §10.6: repeated SUB and UNSUB of an unknown subscription are idempotent.
    await c.sub('t1', 'a.b.*');
    await c.sub('t1', 'a.b.*');
    await c.unsub('t1', 'a.b.*');
    await c.unsub('t1', 'a.b.*');
    await c.unsub('t2', 'x.never');
    // Every allowed character (contract §3: A-Za-z0-9_-~@.) is echoed byte-identically.
    await c.sub('t1', 'a.Az09_-~@.x*');
    await c.unsub('t1', 'a.Az09_-~@.x*');
    await c.sub('t2', 'x.>');
    await c.expectNothing(150);
  });

  test('check 5: PING gets PONG', async () => {
    const relay = await env.relay();
    const c = await env.client(relay);
    c.sendText('PING');
    const m = await c.next();
    assert.equal(m.binary, false);
    assert.equal(m.data.toString('utf8'), 'PONG');
    for (let i = 0; i < 3; i++) await c.ping();
    await c.expectNothing(150);
  });

  test('check 6: A holds t1:a.#, B publishes v1 t1/a.b → A gets the byte-exact frame', async () => {
    const relay = await env.relay();
    const a = await env.client(relay);
    const b = await env.client(relay);
    await a.sub('t1', 'a.#');
    b.sendBinary(encodePublishV1('t1', 'a.b', 'hello'));
    const got = await a.nextBinary();
    assert.deepEqual(got, hex('01 0002 7431 0003 612e62 00000005 68656c6c6f 0001 0003 612e23'));
    assert.deepEqual(got, encodeDelivery({ tenant: 't1', channel: 'a.b', payload: 'hello', patterns: ['a.#'] }));

    // The contract's example: t1, a.b.c, xyz, patterns a.# and a.b.* (in any order).
    await a.sub('t1', 'a.b.*');
    b.sendBinary(encodePublishV1('t1', 'a.b.c', 'xyz'));
    const ex = await a.nextBinary();
    const inOrder = hex('01 0002 7431 0005 612e622e63 00000003 78797a 0002 0003 612e23 0005 612e622e2a');
    const swapped = hex('01 0002 7431 0005 612e622e63 00000003 78797a 0002 0005 612e622e2a 0003 612e23');
    assert.ok(ex.equals(inOrder) || ex.equals(swapped), `got ${ex.toString('hex')}, expected ${inOrder.toString('hex')}`);

    // Binary payload bytes (all 256 values) come through untouched.
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    b.sendBinary(encodePublishV1('t1', 'a.bin', all));
    assert.deepEqual(await a.nextBinary(), encodeDelivery({ tenant: 't1', channel: 'a.bin', payload: all, patterns: ['a.#'] }));
    await b.expectNothing(150); // B subscribes to nothing, so it gets nothing
  });

  test('check 7: SUB:t1:x.# then an immediate publish to x.y → the sender gets its own message', async () => {
    const relay = await env.relay();
    const c = await env.client(relay);
    c.sendText('SUB:t1:x.#');
    c.publish('t1', 'x.y', 'mine');
    const first = await c.next();
    const second = await c.next();
    const text = [first, second].filter((m) => !m.binary).map((m) => m.data.toString('utf8'));
    const bin = [first, second].filter((m) => m.binary).map((m) => decodeDelivery(m.data));
    assert.deepEqual(text, ['OK:SUB:t1:x.#']);
    assert.equal(bin.length, 1);
    assert.deepEqual(bin[0], { tenant: 't1', channel: 'x.y', payload: Buffer.from('mine'), patterns: ['x.#'] });
    // The publisher's own connection is included in broadcast (contract §6).
    const other = await env.client(relay);
    await other.sub('t1', 'x.#');
    c.publish('t1', 'x.z', 'again');
    assert.equal((await c.nextDelivery()).payload.toString(), 'again');
    assert.equal((await other.nextDelivery()).payload.toString(), 'again');
  });

  test('check 8: a.# and a.b.* on one connection: a.b.c → one frame listing both; a.b → a.# only', async () => {
    const relay = await env.relay();
    const s = await env.client(relay);
    const p = await env.client(relay);
    await s.sub('t1', 'a.#');
    await s.sub('t1', 'a.b.*');
    p.publish('t1', 'a.b.c', 'one');
    const before = deliveries(await barrier(p, s, 't1', 'a.zz'));
    assert.equal(before.length, 1, `exactly one frame for a.b.c, got ${before.length}`);
    assert.equal(before[0]?.channel, 'a.b.c');
    assert.deepEqual([...(before[0]?.patterns ?? [])].sort(), ['a.#', 'a.b.*']);

    p.publish('t1', 'a.b', 'two');
    const next = deliveries(await barrier(p, s, 't1', 'a.zz'));
    assert.equal(next.length, 1);
    assert.deepEqual(next[0]?.patterns, ['a.#']);
    await s.expectNothing(150);
  });

  test('check 9: a.# matches a; a.> does not match a; a.* does not match a.b.c', async () => {
    const relay = await env.relay();
    const s = await env.client(relay);
    const p = await env.client(relay);
    for (const pat of ['a.#', 'a.>', 'a.*', 'z.#']) await s.sub('t1', pat);
    const cases: [string, string[]][] = [
      ['a', ['a.#']],
      ['a.b', ['a.#', 'a.>', 'a.*']],
      ['a.b.c', ['a.#', 'a.>']],
      ['b', []],
    ];
    for (const [channel, expected] of cases) {
      p.publish('t1', channel, channel);
      const got = deliveries(await barrier(p, s, 't1', 'z.barrier'));
      if (expected.length === 0) {
        assert.equal(got.length, 0, `${channel} must match nothing, got ${JSON.stringify(got.map((d) => d.patterns))}`);
      } else {
        assert.equal(got.length, 1, `${channel}: one frame`);
        assert.equal(got[0]?.channel, channel);
        assert.deepEqual([...(got[0]?.patterns ?? [])].sort(), [...expected].sort(), `patterns for ${channel}`);
      }
    }
    await p.ping(); // no ERR was sent to the publisher
  });

  test('check 10: a publish in t1 reaches no subscriber in t2', async () => {
    const relay = await env.relay();
    const s = await env.client(relay);
    const p = await env.client(relay);
    await s.sub('t2', 'a.#');
    p.publish('t1', 'a.b', 'wrong tenant');
    const before = await barrier(p, s, 't2', 'a.barrier');
    assert.deepEqual(deliveries(before), []);
    p.publish('t2', 'a.b', 'right tenant');
    const d = await s.nextDelivery();
    assert.equal(d.tenant, 't2');
    assert.equal(d.payload.toString(), 'right tenant');
  });

  test('check 11: after OK:UNSUB, no frame lists that pattern', async () => {
    const relay = await env.relay();
    const s = await env.client(relay);
    const p = await env.client(relay);
    await s.sub('t1', 'a.#');
    await s.sub('t1', 'a.b.*');
    await s.sub('t1', 'z.#');
    await s.unsub('t1', 'a.b.*');
    p.publish('t1', 'a.b.c', 'x');
    const got = deliveries(await barrier(p, s, 't1', 'z.b'));
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]?.patterns, ['a.#']);
    await s.unsub('t1', 'a.#');
    p.publish('t1', 'a.b.c', 'y');
    p.publish('t1', 'a', 'y');
    assert.deepEqual(deliveries(await barrier(p, s, 't1', 'z.b')), []);
    await s.expectNothing(150);
  });

  test('check 12: modes 1 and 2 deliver each of 300 messages to exactly one of 3; none → nothing; mode 0 broadcasts', async () => {
    const relay = await env.relay();
    const subs = [await env.client(relay), await env.client(relay), await env.client(relay)];
    const p = await env.client(relay);
    for (const s of subs) await s.sub('t1', 'q.#');

    for (const mode of [1, 2]) {
      for (let i = 0; i < 300; i++) p.sendBinary(encodePublishV2(mode, 't1', 'q.m', `m${mode}-${i}`));
      const tag = barrierTag();
      p.publish('t1', 'q.barrier', tag); // v1 broadcast: every subscriber sees it after the 300
      const counts = new Map<string, number>();
      const perSub: number[] = [];
      for (const s of subs) {
        const got = deliveries(await collectUntil(s, 'q.barrier', tag, 5000));
        perSub.push(got.length);
        for (const d of got) {
          assert.equal(d.channel, 'q.m');
          assert.deepEqual(d.patterns, ['q.#']);
          const key = d.payload.toString();
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      for (let i = 0; i < 300; i++) assert.equal(counts.get(`m${mode}-${i}`), 1, `mode ${mode} message ${i} reached ${counts.get(`m${mode}-${i}`) ?? 0} subscribers`);
      assert.equal(counts.size, 300);
      assert.equal(perSub.reduce((a, b) => a + b, 0), 300, `mode ${mode}: total deliveries ${perSub.join('+')}`);
      // Random choice over 3 connections: each one gets some (P(miss) ≈ 3·(2/3)^300).
      assert.ok(perSub.every((n) => n > 0), `mode ${mode}: distribution ${perSub.join('/')}`);
    }

    // No subscribers: nothing happens (no ERR, nothing delivered anywhere).
    p.sendBinary(encodePublishV2(1, 't1', 'x.nobody', 'lost'));
    p.sendBinary(encodePublishV2(2, 't1', 'x.nobody', 'lost'));
    await p.ping();
    for (const s of subs) await s.expectNothing(100);

    // Mode 0 is broadcast.
    p.sendBinary(encodePublishV2(0, 't1', 'q.all', 'everyone'));
    for (const s of subs) {
      const d = await s.nextDelivery();
      assert.equal(d.channel, 'q.all');
      assert.equal(d.payload.toString(), 'everyone');
    }
    await p.expectNothing(100);
  });

  test('check 13: payloads of 0 and 65535 bytes arrive intact; 65536 gets ERR:payload_too_large', async () => {
    const relay = await env.relay();
    const s = await env.client(relay);
    const p = await env.client(relay);
    await s.sub('t1', 'a.#');
    p.publish('t1', 'a.empty', Buffer.alloc(0));
    const empty = await s.nextBinary();
    assert.deepEqual(empty, encodeDelivery({ tenant: 't1', channel: 'a.empty', payload: Buffer.alloc(0), patterns: ['a.#'] }));
    const big = Buffer.alloc(65535);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    p.publish('t1', 'a.big', big);
    const gotBig = await s.nextBinary();
    assert.ok(gotBig.equals(encodeDelivery({ tenant: 't1', channel: 'a.big', payload: big, patterns: ['a.#'] })), '65535-byte payload intact');

    p.publish('t1', 'a.toobig', Buffer.alloc(65536, 1));
    await expectErr(p, 'payload_too_large');
    p.sendBinary(encodePublishV2(1, 't1', 'a.toobig', Buffer.alloc(65536, 1)));
    await expectErr(p, 'payload_too_large');
    await p.ping(); // still open
    assert.deepEqual(deliveries(await barrier(p, s, 't1', 'a.barrier')), [], 'an oversized publish is not delivered');
  });

  test('check 14: malformed publishes get ERR: and the connection stays open', async () => {
    const relay = await env.relay();
    const s = await env.client(relay);
    const p = await env.client(relay);
    await s.sub('t1', 'a.#');
    const tenantLen = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
    const malformed: [string, Buffer][] = [
      ['truncated: 3 bytes', Buffer.from([0x00, 0x02, 0x74])],
      ['truncated: tenant length overruns', Buffer.concat([tenantLen(10), Buffer.from('t1')])],
      ['truncated: no channel length', Buffer.concat([tenantLen(2), Buffer.from('t1')])],
      ['truncated: channel length overruns', Buffer.concat([tenantLen(2), Buffer.from('t1'), tenantLen(20), Buffer.from('a.b')])],
      ['bad UTF-8 tenant', encodePublishV1(Buffer.from([0x74, 0xff, 0xfe]), 'a.b', 'p')],
      ['bad UTF-8 channel', encodePublishV1('t1', Buffer.from([0x61, 0x2e, 0xc3, 0x28]), 'p')],
      ['first byte 0x01', Buffer.concat([Buffer.from([0x01]), encodePublishV1('t1', 'a.b', 'p').subarray(1)])],
      ['tenant > 128 bytes', encodePublishV1('t'.repeat(129), 'a.b', 'p')],
      ['wildcard channel a.*', encodePublishV1('t1', 'a.*', 'p')],
      ['wildcard channel a.#', encodePublishV1('t1', 'a.#', 'p')],
      ['wildcard channel a.>', encodePublishV1('t1', 'a.>', 'p')],
      ['v2 truncated', Buffer.from([0x02, 0x01, 0x00])],
      ['v2 unknown mode 3', encodePublishV2(3, 't1', 'a.b', 'p')],
    ];
    for (const [what, frame] of malformed) {
      p.sendBinary(frame);
      await expectErr(p).catch((e: unknown) => {
        throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      });
      assert.equal(p.closeInfo, undefined, `${what}: connection must stay open`);
    }
    await p.ping();
    const before = deliveries(await barrier(p, s, 't1', 'a.ok'));
    assert.deepEqual(before, [], 'nothing malformed was delivered');
  });

  test('check 15: a publish or SUB outside the grants gets ERR:permission_denied and no delivery; a refused SUB gets ERR, then an inert OK:SUB (§11.8)', async () => {
    const relay = await env.relay();
    const limited = await env.token(relay, {
      tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['a.#', 'x.exact'], allow_channels_sub: ['a.#', 'x.exact'] }],
    });
    const c = await env.connect(relay, limited);
    const watcher = await env.client(relay);
    await watcher.sub('t1', 'b.#');
    await watcher.sub('t2', 'a.#');
    await watcher.sub('t1', 'x.#');

    const refused = [['t1', 'b.#'], ['t1', '#'], ['t2', 'a.#'], ['t1', 'x.#'], ['t1', 'x.exact.more'], ['t1', '*.b']] as const;
    for (const [t, pat] of refused) {
      c.sendText(`SUB:${t}:${pat}`);
      assert.equal(await c.nextText(), `ERR:permission_denied:SUB:${t}:${pat}`, 'the ERR comes first');
      assert.equal(await c.nextText(), `OK:SUB:${t}:${pat}`, 'then the inert OK:SUB, byte-identical to the request');
    }
    await c.ping(); // nothing else slipped in before the PONG
    await c.expectNothing(100);
    // Subsets of a grant are allowed.
    await c.sub('t1', 'a.#');
    await c.sub('t1', 'a.b.*');
    await c.sub('t1', 'x.exact');

    // The inert OK:SUBs registered nothing: traffic on every refused pattern reaches c not at all.
    const other = await env.client(relay);
    for (const [t, ch] of [['t1', 'b.c'], ['t1', 'q'], ['t2', 'a.b'], ['t1', 'x.y'], ['t1', 'x.exact.more'], ['t1', 'z.b']] as const) {
      other.publish(t, ch, 'to-refused');
    }
    const beforeBarrier = await barrier(other, c, 't1', 'a.barrier');
    assert.deepEqual(deliveries(beforeBarrier), [], 'a refused subscription never delivers');

    for (const [t, ch] of [['t1', 'b.c'], ['t2', 'a.b'], ['t1', 'x.other']] as const) {
      c.publish(t, ch, 'denied');
      await expectErr(c, 'permission_denied');
    }
    // A permitted publish is the barrier: the watcher holds x.# and must see nothing before it.
    c.publish('t1', 'x.exact', 'allowed');
    const seen = deliveries(await collectUntil(watcher, 'x.exact', 'allowed'));
    // The watcher saw the other client's traffic (it holds b.#, t2 a.#, x.#), never c's denied publishes.
    assert.deepEqual(seen.filter((d) => d.payload.toString() === 'denied'), [], 'denied publishes must not be delivered');
    assert.equal(seen.length, 4, 'the watcher got the four other publishes it holds patterns for');
  });

  test('check 16: two connections with one token both work; closing one removes only its subscriptions', async () => {
    const relay = await env.relay();
    const token = await env.token(relay);
    const c1 = await env.connect(relay, token);
    const c2 = await env.connect(relay, token);
    const p = await env.client(relay);
    const subsBefore = metricValue(await scrapeMetrics(relay), 'fastpubsub_subscriptions') ?? 0;
    await c1.sub('t1', 'a.#');
    await c1.sub('t1', 'b.#');
    await c2.sub('t1', 'a.#');
    p.publish('t1', 'a.1', 'both');
    assert.equal((await c1.nextDelivery()).payload.toString(), 'both');
    assert.equal((await c2.nextDelivery()).payload.toString(), 'both');
    await waitFor(async () => metricValue(await scrapeMetrics(relay), 'fastpubsub_subscriptions') === subsBefore + 3, 2000, 'subscriptions gauge +3');

    await c1.close();
    await waitFor(async () => metricValue(await scrapeMetrics(relay), 'fastpubsub_subscriptions') === subsBefore + 1, 2000, 'subscriptions gauge back to +1 after closing c1');
    p.publish('t1', 'a.2', 'c2 only');
    p.publish('t1', 'b.2', 'nobody');
    assert.equal((await c2.nextDelivery()).payload.toString(), 'c2 only');
    await c2.ping();
    await c2.expectNothing(100);
    // c2 can still subscribe and publish with the shared token.
    await c2.sub('t1', 'b.#');
    c2.publish('t1', 'b.3', 'self');
    assert.equal((await c2.nextDelivery()).payload.toString(), 'self');
  });
});

