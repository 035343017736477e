// One edge conformance suite, run against the WebSocket, the QUIC and the WebTransport edge
// (STYLE.md #7), plus cross-edge delivery through the shared dispatcher.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestEnv, type Relay } from '@fastpubsub/testkit/relay';
import type { EdgeClient, EdgeFactory } from '@fastpubsub/testkit/relay';
import { wsEdge } from '@fastpubsub/testkit/relay';
import { quicEdge, webTransportEdge } from '@fastpubsub/testkit/relay';

for (const edge of [wsEdge, quicEdge, webTransportEdge] as EdgeFactory[]) {
  describe(`edge suite: ${edge.kind}`, () => {
    const env = new TestEnv();
    let relay: Relay;
    let token: string;
    const open: EdgeClient[] = [];
    const client = async (t = token): Promise<EdgeClient> => {
      const c = await edge.connect(relay, t);
      open.push(c);
      return c;
    };
    before(async () => {
      relay = await env.relay();
      token = await env.token(relay);
    });
    after(async () => {
      await Promise.all(open.map((c) => c.close().catch(() => undefined)));
      await env.cleanup();
    });

    test('a bad token is refused', async () => {
      const code = await edge.connectRefused(relay, 'AT_nope_nope');
      assert.ok(code === '401' || code === 'unauthorized', code);
    });

    test('sub, pub, receive byte-exact (own message included)', async () => {
      const a = await client();
      const b = await client();
      await a.subscribe('t1', 'a.#');
      b.publish('t1', 'a.b', Buffer.from([0, 1, 2, 255]));
      const m = await a.nextMessage();
      assert.deepEqual(m, { tenant: 't1', channel: 'a.b', payload: Buffer.from([0, 1, 2, 255]), patterns: ['a.#'] });
      await a.subscribe('t1', 'x.#');
      a.publish('t1', 'x.y', 'self');
      assert.equal((await a.nextMessage()).payload.toString(), 'self');
    });

    test('wildcards: every matching pattern of the connection; a.> and a.* semantics', async () => {
      const a = await client();
      await a.subscribe('t1', 'a.#');
      await a.subscribe('t1', 'a.b.*');
      await a.subscribe('t1', 'a.>');
      a.publish('t1', 'a.b.c', '1');
      assert.deepEqual((await a.nextMessage()).patterns.sort(), ['a.#', 'a.>', 'a.b.*']);
      a.publish('t1', 'a', '2');
      assert.deepEqual((await a.nextMessage()).patterns, ['a.#']);
      await a.expectNoMessage(100);
    });

    test('permission_denied on pub and sub outside the grants', async () => {
      const t = await env.token(relay, { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['a.#'], allow_channels_sub: ['a.#'] }] });
      const c = await client(t);
      assert.equal(await c.subscribeRefused('t1', 'b.#'), 'permission_denied');
      assert.equal(await c.subscribeRefused('t2', 'a.#'), 'permission_denied');
      c.publish('t1', 'b.c', 'x');
      assert.equal(await c.nextError(), 'permission_denied');
      await c.subscribe('t1', 'a.#');
      c.publish('t1', 'a.b', 'ok');
      assert.equal((await c.nextMessage()).payload.toString(), 'ok');
    });

    test('tenant isolation', async () => {
      const a = await client();
      const b = await client();
      await a.subscribe('t2', 'a.#');
      b.publish('t1', 'a.b', 'x');
      await b.ping();
      await a.expectNoMessage(150);
    });

    test('payload 0 and 65535 arrive intact; 65536 is rejected and the connection keeps working', async () => {
      const a = await client();
      await a.subscribe('t1', 'z.#');
      a.publish('t1', 'z.0', Buffer.alloc(0));
      assert.equal((await a.nextMessage()).payload.length, 0);
      const big = Buffer.alloc(65535, 7);
      a.publish('t1', 'z.big', big);
      assert.ok((await a.nextMessage()).payload.equals(big));
      a.publish('t1', 'z.huge', Buffer.alloc(65536));
      assert.equal(await a.nextError(), 'payload_too_large');
      a.publish('t1', 'z.after', 'still');
      assert.equal((await a.nextMessage()).payload.toString(), 'still');
    });

    test('malformed publishes get an error and the connection keeps working', async () => {
      const a = await client();
      await a.subscribe('t1', 'q.#');
      for (const kind of ['bad-utf8', 'bad-mode', 'wildcard-channel', 'long-tenant'] as const) {
        a.publishMalformed(kind);
        const code = await a.nextError();
        assert.ok(['bad_frame', 'invalid_name'].includes(code), `${kind}: ${code}`);
      }
      a.publish('t1', 'q.ok', 'fine');
      assert.equal((await a.nextMessage()).payload.toString(), 'fine');
    });

    test('unsubscribe stops delivery', async () => {
      const a = await client();
      await a.subscribe('t1', 'b.#');
      await a.unsubscribe('t1', 'b.#');
      a.publish('t1', 'b.c', 'x');
      await a.ping();
      await a.expectNoMessage(150);
    });

    test('deliver-one modes reach exactly one of three subscribers', async () => {
      const subs = [await client(), await client(), await client()];
      for (const s of subs) await s.subscribe('t1', 'load.#');
      const pub = await client();
      const N = 60;
      for (const mode of [1, 2] as const) {
        for (let i = 0; i < N; i++) pub.publish('t1', 'load.x', `${mode}:${i}`, mode);
        const got: string[] = [];
        for (;;) {
          const before = got.length;
          for (const s of subs) {
            try {
              got.push((await s.nextMessage(before === got.length ? 300 : 50)).payload.toString());
            } catch {
              // nothing more on this one
            }
          }
          if (got.length === before) break;
        }
        assert.equal(got.length, N, `mode ${mode}`);
        assert.equal(new Set(got).size, N);
      }
    });
  });
}

describe('edge suite: cross-edge delivery', () => {
  const env = new TestEnv();
  let relay: Relay;
  let token: string;
  before(async () => {
    relay = await env.relay();
    token = await env.token(relay);
  });
  after(() => env.cleanup());

  for (const [from, to] of [
    [wsEdge, quicEdge],
    [quicEdge, wsEdge],
    [webTransportEdge, wsEdge],
    [quicEdge, webTransportEdge],
  ] as const) {
    test(`publish on ${from.kind} → subscriber on ${to.kind}`, async () => {
      const sub = await to.connect(relay, token);
      const pub = await from.connect(relay, token);
      try {
        await sub.subscribe('t1', 'x.#');
        pub.publish('t1', 'x.cross', `from ${from.kind}`);
        const m = await sub.nextMessage();
        assert.deepEqual(m, { tenant: 't1', channel: 'x.cross', payload: Buffer.from(`from ${from.kind}`), patterns: ['x.#'] });
      } finally {
        await sub.close();
        await pub.close();
      }
    });
  }
});
