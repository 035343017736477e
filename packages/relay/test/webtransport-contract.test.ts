// The contract's WebTransport (contract v0.1 §11.2–§11.6, checks 22–32) over real HTTP/3 on
// loopback. The client is written from §11: our addon opens the QUIC connection, sends its
// SETTINGS and the extended CONNECT (`:path /` or `/wt`, `authorization: Bearer <AT>`), then
// speaks `u8 kind | u32 length | bytes` frames on one bidi stream and reads server-opened lines
// (`u32 length | payload`, first payload the label).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { QuicEndpoint, type QuicConnection, type QuicStream, type WebTransportSessionInfo } from '@fastpubsub/quic';
import { decodeDelivery, encodePublish } from '@fastpubsub/wire';
import { TestEnv, connectWs, type Relay } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
after(() => env.cleanup());

interface Got {
  kind: 'text' | 'delivery';
  on: 'bidi' | 'line';
  text?: string;
  delivery?: { tenant: string; channel: string; payload: string; patterns: string[] };
}

class ContractWtClient {
  readonly got: Got[] = [];
  readonly labels: string[] = [];
  #bidi: QuicStream;
  #wake: (() => void) | undefined;

  constructor(
    readonly ep: QuicEndpoint,
    readonly c: QuicConnection,
    readonly status: number,
  ) {
    this.#bidi = c.openBidiStream();
    let buf = Buffer.alloc(0);
    this.#bidi.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
        const kind = buf[0];
        const body = buf.subarray(5, 5 + buf.readUInt32BE(1));
        buf = buf.subarray(5 + body.length);
        this.#push(kind === 1 ? { kind: 'text', on: 'bidi', text: body.toString() } : this.#delivery(body, 'bidi'));
      }
    });
    c.on('stream', (s: QuicStream) => {
      let lbuf = Buffer.alloc(0);
      let first = true;
      s.on('data', (chunk: Buffer) => {
        lbuf = Buffer.concat([lbuf, chunk]);
        while (lbuf.length >= 4 && lbuf.length >= 4 + lbuf.readUInt32BE(0)) {
          const body = lbuf.subarray(4, 4 + lbuf.readUInt32BE(0));
          lbuf = lbuf.subarray(4 + body.length);
          if (first) {
            first = false;
            this.labels.push(body.toString());
          } else this.#push(this.#delivery(body, 'line'));
        }
      });
    });
  }

  #delivery(body: Buffer, on: 'bidi' | 'line'): Got {
    const d = decodeDelivery(body);
    return { kind: 'delivery', on, delivery: { tenant: d.tenant, channel: d.channel, payload: Buffer.from(d.payload).toString(), patterns: d.patterns } };
  }

  #push(g: Got): void {
    this.got.push(g);
    this.#wake?.();
  }

  send(kind: 0 | 1, body: Uint8Array | string): void {
    const b = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    const head = Buffer.alloc(5);
    head[0] = kind;
    head.writeUInt32BE(b.length, 1);
    this.#bidi.write(Buffer.concat([head, b]));
  }

  /** The next thing received (in arrival order), within `ms`. */
  async next(ms = 2000): Promise<Got> {
    const end = Date.now() + ms;
    while (this.got.length === 0) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`nothing within ${ms} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.got.shift() as Got;
  }

  async nothing(ms = 200): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    assert.deepEqual(this.got, []);
  }

  async close(): Promise<void> {
    this.c.close(0, '');
    await this.ep.close();
  }
}

async function connectContract(relay: Relay, token: string | undefined, path = '/'): Promise<ContractWtClient> {
  const ep = new QuicEndpoint({ host: '127.0.0.1', closeTimeoutMs: 300 });
  const c = await ep.connect({
    host: '127.0.0.1',
    port: relay.quicPort as number,
    serverName: 'localhost',
    alpn: ['h3'],
    caPem: relay.webTransportCertPem,
    webTransport: { path, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } },
  });
  const info = c.webTransportSession ?? (await new Promise<WebTransportSessionInfo>((r) => c.once('session', r)));
  return new ContractWtClient(ep, c, info.status ?? 0);
}

describe("the contract's WebTransport (checks 22–32)", () => {
  let relay: Relay;
  let token: string;
  before(async () => {
    relay = await env.relay();
    token = await env.token(relay, { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }] });
  });

  test('22: CONNECT / and /wt with a Bearer token get 200; a bad or absent token gets 401', async () => {
    for (const path of ['/', '/wt']) {
      const c = await connectContract(relay, token, path);
      assert.equal(c.status, 200, path);
      await c.close();
    }
    for (const t of ['AT_nope_nope', undefined]) {
      const c = await connectContract(relay, t);
      assert.equal(c.status, 401, String(t));
      await c.close();
    }
  });

  test('24: SUB → OK:SUB; v1 and v2 publishes are delivered byte-exact in kind-0 frames; UNSUB → OK:UNSUB', async () => {
    const c = await connectContract(relay, token);
    c.send(1, 'SUB:t1:a.#');
    assert.deepEqual(await c.next(), { kind: 'text', on: 'bidi', text: 'OK:SUB:t1:a.#' });
    c.send(0, encodePublish({ tenant: 't1', channel: 'a.b', payload: Buffer.from('v1') }));
    c.send(0, encodePublish({ tenant: 't1', channel: 'a.c', payload: Buffer.from('v2'), mode: 0 }));
    assert.deepEqual((await c.next()).delivery, { tenant: 't1', channel: 'a.b', payload: 'v1', patterns: ['a.#'] });
    const second = await c.next();
    assert.equal(second.on, 'bidi');
    assert.deepEqual(second.delivery, { tenant: 't1', channel: 'a.c', payload: 'v2', patterns: ['a.#'] });
    c.send(1, 'UNSUB:t1:a.#');
    assert.deepEqual(await c.next(), { kind: 'text', on: 'bidi', text: 'OK:UNSUB:t1:a.#' });
    await c.close();
  });

  test('25–27: :U subscriptions confirm a line 1–8 and deliver on a labelled line; :D confirms plainly and delivers', async () => {
    const c = await connectContract(relay, token);
    c.send(1, 'SUB:t1:b.#:U:0:0');
    assert.equal((await c.next()).text, 'OK:SUB:t1:b.#:U:1');
    c.send(1, 'SUB:t1:c.#:U:3:64');
    assert.equal((await c.next()).text, 'OK:SUB:t1:c.#:U:3');
    c.send(1, 'SUB:t1:f.#:U:9:0');
    assert.equal((await c.next()).text, 'OK:SUB:t1:f.#:U:1');
    c.send(1, 'SUB:t1:d.#:D');
    assert.equal((await c.next()).text, 'OK:SUB:t1:d.#');
    c.send(1, 'SUB:t1:e.#:D:32');
    assert.equal((await c.next()).text, 'OK:SUB:t1:e.#');
    for (const ch of ['b.1', 'd.1', 'e.1']) c.send(0, encodePublish({ tenant: 't1', channel: ch, payload: Buffer.from(ch) }));
    const got = [await c.next(), await c.next(), await c.next()];
    assert.deepEqual(got.map((g) => [g.on, g.delivery?.channel]), [['line', 'b.1'], ['line', 'd.1'], ['line', 'e.1']]);
    assert.deepEqual(c.labels, ['U:1']);
    await c.close();
  });

  test('26: SUB …:U:3:64 caps that subscription at 64 KiB/s plus a burst; excess is dropped, not queued', async () => {
    const c = await connectContract(relay, token);
    c.send(1, 'SUB:t1:cap.#:U:3:64');
    assert.equal((await c.next()).text, 'OK:SUB:t1:cap.#:U:3');
    const started = Date.now();
    for (let i = 0; i < 400; i++) c.send(0, encodePublish({ tenant: 't1', channel: 'cap.x', payload: Buffer.alloc(1024, 1) }));
    await new Promise((r) => setTimeout(r, 700));
    const elapsedS = (Date.now() - started) / 1000;
    const bytes = c.got.filter((g) => g.kind === 'delivery').length * 1024;
    // Bucket: 64 KiB full at the start, refilled at 64 KiB/s; one frame of slack.
    assert.ok(bytes > 0 && bytes <= 64 * 1024 * (1 + elapsedS) + 2048, `${bytes} bytes in ${elapsedS} s`);
    assert.ok(bytes < 400 * 1024, 'the excess was dropped');
    await c.close();
  });

  test('28: a 65535-byte WebSocket publish never reaches the session in a frame over 65536 bytes; the session stays open', async () => {
    const c = await connectContract(relay, token);
    c.send(1, 'SUB:t1:big.#');
    await c.next();
    const ws = await connectWs(relay.wsUrl, token);
    try {
      ws.ws.send(encodePublish({ tenant: 't1', channel: 'big.x', payload: Buffer.alloc(65535, 1) }));
      ws.ws.send(encodePublish({ tenant: 't1', channel: 'big.y', payload: Buffer.from('small') }));
      const g = await c.next();
      assert.equal(g.delivery?.channel, 'big.y', 'the oversize delivery was dropped, the next one arrives');
      assert.equal(c.c.isClosed, false);
    } finally {
      ws.ws.close();
    }
    await c.close();
  });

  test('30–31: a publish outside the grants gets no ERR; a refused SUB gets OK:SUB then OK:UNSUB and others keep receiving', async () => {
    const narrow = await env.token(relay, { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['ok.#'], allow_channels_sub: ['ok.#'] }] });
    const c = await connectContract(relay, narrow);
    c.send(1, 'SUB:t1:ok.#');
    assert.equal((await c.next()).text, 'OK:SUB:t1:ok.#');
    c.send(0, encodePublish({ tenant: 't1', channel: 'no.x', payload: Buffer.from('x') }));
    c.send(1, 'SUB:t1:no.#');
    assert.equal((await c.next(1000)).text, 'OK:SUB:t1:no.#');
    assert.equal((await c.next(1000)).text, 'OK:UNSUB:t1:no.#');
    c.send(0, encodePublish({ tenant: 't1', channel: 'ok.1', payload: Buffer.from('fine') }));
    assert.equal((await c.next()).delivery?.payload, 'fine');
    await c.nothing(150);
    await c.close();
  });

  test('32: closing a session removes its subscriptions; a second session with the same token is unaffected', async () => {
    const a = await connectContract(relay, token);
    const b = await connectContract(relay, token);
    for (const c of [a, b]) {
      c.send(1, 'SUB:t1:s.#');
      await c.next();
    }
    await a.close();
    await new Promise((r) => setTimeout(r, 100));
    b.send(0, encodePublish({ tenant: 't1', channel: 's.1', payload: Buffer.from('after') }));
    assert.equal((await b.next()).delivery?.payload, 'after');
    await b.close();
  });
});

test("32: on shutdown a contract session gets RECONNECT (in place of a close), then the session ends", async () => {
  const relay = await env.relay();
  const token = await env.token(relay, { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }] });
  const c = await connectContract(relay, token);
  c.send(1, 'SUB:t1:r.#');
  await c.next();
  const closed = c.c.closed;
  const stopping = relay.close({ graceMs: 200 });
  assert.deepEqual(await c.next(), { kind: 'text', on: 'bidi', text: 'RECONNECT' });
  const info = await closed;
  assert.equal(info.code, 0x3, JSON.stringify(info));
  await stopping;
  await c.ep.close();
});
