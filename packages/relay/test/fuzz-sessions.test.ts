// Property-based fuzzing beyond the codecs, over real sockets against one real relay:
// - WebSocket sessions fed random frame sequences (valid and broken commands, random binary,
//   fragmented messages, control frames) must end either still answering PING with PONG or
//   closed with a code RFC 6455 allows for bad input, and the relay keeps serving others;
// - random frame sequences on an authenticated QUIC control stream must leave the relay serving;
// - random REST requests must get a known status, never a 5xx.
// Bounded: FUZZ_RUNS (default 25) sequences of at most 25 frames; longer with FUZZ_RUNS=1000.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MASTER_TOKEN, TestEnv, http, sleep, type Relay } from '@fastpubsub/testkit/relay';
import { RawFrameReader, clientFrame, rawUpgrade } from './conformance/rawws.js';
import { encodePublishV1 } from '@fastpubsub/testkit/relay';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 25);
const env = new TestEnv();
let relay: Relay;
let token: string;

before(async () => {
  relay = await env.relay({ quic: { enabled: false }, limits: { authFailuresPerIp: 1_000_000 } });
  token = await env.token(relay);
});
after(() => env.cleanup());

const name = fc.stringMatching(/^[a-z0-9_.*#>-]{0,12}$/);
const textCommand = fc.oneof(
  fc.tuple(fc.constantFrom('SUB', 'UNSUB'), fc.constantFrom('t1', 't2', 'x', ''), name).map(([c, t, p]) => `${c}:${t}:${p}`),
  fc.constant('PING'),
  fc.string({ maxLength: 40 }),
);
type Action = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array } | { kind: 'fragmented'; parts: string[] } | { kind: 'control'; opcode: number; bytes: Uint8Array };
const action: fc.Arbitrary<Action> = fc.oneof(
  textCommand.map((text) => ({ kind: 'text' as const, text })),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: 'binary' as const, bytes })),
  fc.tuple(fc.constantFrom('t1', 't2', 'q'), name, fc.uint8Array({ maxLength: 32 })).map(([t, c, p]) => ({ kind: 'binary' as const, bytes: encodePublishV1(t, c === '' ? 'a' : c, Buffer.from(p)) })),
  fc.array(textCommand, { minLength: 2, maxLength: 4 }).map((parts) => ({ kind: 'fragmented' as const, parts })),
  fc.tuple(fc.constantFrom(0x9, 0xa), fc.uint8Array({ maxLength: 16 })).map(([opcode, bytes]) => ({ kind: 'control' as const, opcode, bytes })),
);

function frameOf(a: Action): Buffer {
  switch (a.kind) {
    case 'text':
      return clientFrame(0x1, Buffer.from(a.text, 'utf8'));
    case 'binary':
      return clientFrame(0x2, Buffer.from(a.bytes));
    case 'control':
      return clientFrame(a.opcode, Buffer.from(a.bytes));
    case 'fragmented':
      return Buffer.concat(
        a.parts.map((p, i) => {
          const f = clientFrame(i === 0 ? 0x1 : 0x0, Buffer.from(p, 'utf8'));
          if (i < a.parts.length - 1) f[0] = (f[0] ?? 0) & 0x7f;
          return f;
        }),
      );
  }
}

/** Reads until PONG (alive) or a close frame / socket end; bounded in frames and time. */
async function outcome(reader: RawFrameReader): Promise<{ alive: true } | { alive: false; code: number | undefined }> {
  for (let i = 0; i < 500; i++) {
    let f;
    try {
      f = await reader.next(3000);
    } catch {
      return { alive: false, code: undefined };
    }
    if (f.opcode === 0x8) return { alive: false, code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined };
    if (f.opcode === 0x1 && f.payload.toString('utf8') === 'PONG') return { alive: true };
  }
  throw new Error('no PONG or close within 500 frames');
}

test('random WebSocket frame sequences: the session answers PING or closes with an RFC 6455 bad-input code; the relay keeps serving', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(action, { maxLength: 25 }), async (actions) => {
      const r = await rawUpgrade('127.0.0.1', relay.port, { path: '/ws', protocol: `llps.v1,at.${token}` });
      assert.equal(r.status, 101);
      const reader = new RawFrameReader(r.socket, r.leftover);
      try {
        r.socket.write(Buffer.concat([...actions.map(frameOf), clientFrame(0x1, Buffer.from('PING'))]));
        const o = await outcome(reader);
        // 1007: invalid UTF-8 in a text message (RFC 6455 §8.1); 1002: protocol error (e.g. a bare continuation frame).
        if (!o.alive) assert.ok(o.code === 1007 || o.code === 1002, `closed with ${String(o.code)}`);
      } finally {
        r.socket.destroy();
      }
      const health = await http(relay.httpUrl, 'GET', '/ping');
      assert.equal(health.status, 200);
    }),
    { numRuns: RUNS },
  );
});

test('random REST requests get a known status, never a 5xx', async () => {
  const paths = ['/ping', '/healthz', '/metrics', '/v1/edges', '/v1/get-token', '/v1/refresh-token', '/v1/revoke-token', '/v1/mesh/links', '/v1/mesh/routes', '/nope', '/v1/get-token?x=1'];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      fc.constantFrom(...paths),
      fc.option(fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', 'multipart/form-data')),
      fc.option(fc.oneof(fc.string({ maxLength: 60 }), fc.json({ maxDepth: 3 }))),
      fc.boolean(),
      async (method, path, type, body, withMaster) => {
        const headers: Record<string, string> = {};
        if (type !== null) headers['content-type'] = type;
        if (withMaster) headers['authorization'] = `Bearer ${MASTER_TOKEN}`;
        const res = await fetch(relay.httpUrl + path, {
          method,
          headers,
          ...(body === null || method === 'GET' ? {} : { body }),
          signal: AbortSignal.timeout(5000),
        });
        await res.arrayBuffer();
        assert.ok([200, 400, 401, 403, 404, 405, 413, 415, 429].includes(res.status), `${method} ${path} → ${res.status}`);
      },
    ),
    { numRuns: RUNS * 4 },
  );
});

test('random frames on a QUIC control stream after a valid AUTH: the relay answers or closes that connection, and keeps serving', async () => {
  const { QuicEndpoint } = await import('@fastpubsub/quic');
  const { QuicEdgeClient } = await import('@fastpubsub/client/quic');
  const { FrameType, encodeAuth, encodeFrame } = await import('@fastpubsub/wire');
  const quicRelay = await env.relay({ limits: { authFailuresPerIp: 1_000_000 } });
  const quicToken = await env.token(quicRelay);
  const endpoint = new QuicEndpoint({ host: '127.0.0.1' });
  const types = Object.values(FrameType) as number[];
  const frameArb = fc.oneof(
    fc.tuple(fc.constantFrom(...types), fc.string({ maxLength: 12 }), fc.uint8Array({ maxLength: 48 })).map(([t, topic, p]) => Buffer.from(encodeFrame(t, topic, p))),
    fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)),
  );
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { maxLength: 12 }), async (frames) => {
        const conn = await endpoint.connect({ host: '127.0.0.1', port: quicRelay.quicPort as number, alpn: ['fastpubsub/1'], caPem: quicRelay.quicCaPem });
        try {
          const s = conn.openBidiStream();
          s.on('data', () => undefined);
          s.write(Buffer.concat([Buffer.from(encodeAuth({ token: quicToken })), ...frames]));
          await sleep(30);
        } finally {
          conn.close(0, 'done');
        }
        // The relay still admits and serves a well-behaved client.
        const q = await QuicEdgeClient.connect({ host: '127.0.0.1', port: quicRelay.quicPort as number, token: quicToken, caPem: quicRelay.quicCaPem });
        await q.ping();
        await q.closed();
      }),
      { numRuns: Math.max(5, Math.floor(RUNS / 2)) },
    );
  } finally {
    await endpoint.close(0, 'done');
  }
});
