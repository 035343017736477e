// EdgeClient over the QUIC edge, on the SDK's Node QUIC client (@fastpubsub/client/quic).
import assert from 'node:assert/strict';
import { encodeFrame, FrameType } from '@fastpubsub/wire';
import { QuicEdgeClient, type QuicEdgeSubscription } from '@fastpubsub/client/quic';
import type { Relay } from './helpers.js';
import { QueueWaiter, type EdgeClient, type EdgeFactory, type EdgeMessage } from './edge-client.js';

// Deliveries of one message on several subscription streams arrive in any order; wait this
// long after the first before merging them into one EdgeMessage.
const MERGE_MS = 30;

export class QuicTestClient implements EdgeClient {
  readonly kind: 'quic' | 'webtransport';
  readonly q: QuicEdgeClient;
  readonly #subs = new Map<string, QuicEdgeSubscription>();
  readonly #deliveries: EdgeMessage[] = [];
  readonly #errors: string[] = [];
  readonly #waiter = new QueueWaiter();

  constructor(q: QuicEdgeClient, errors: string[], setWake: (w: () => void) => void, kind: 'quic' | 'webtransport' = 'quic') {
    this.kind = kind;
    this.q = q;
    this.#errors = errors;
    setWake(() => this.#waiter.notify());
  }

  async subscribe(tenant: string, pattern: string): Promise<void> {
    const sub = this.q.subscribe(tenant, pattern);
    sub.onMessage = (m) => {
      this.#deliveries.push({ tenant, channel: m.channel, payload: Buffer.from(m.data), patterns: [pattern] });
      this.#waiter.notify();
    };
    try {
      await sub.ready;
    } catch (err) {
      throw new Error((err as { serverCode?: string }).serverCode ?? String(err));
    }
    this.#subs.set(`${tenant}:${pattern}`, sub);
  }

  async subscribeRefused(tenant: string, pattern: string): Promise<string> {
    const sub = this.q.subscribe(tenant, pattern);
    try {
      await sub.ready;
    } catch (err) {
      return (err as { serverCode?: string }).serverCode ?? 'unknown';
    }
    assert.fail(`SUB ${tenant}:${pattern} was accepted`);
  }

  async unsubscribe(tenant: string, pattern: string): Promise<void> {
    const sub = this.#subs.get(`${tenant}:${pattern}`);
    assert.ok(sub !== undefined, 'not subscribed');
    this.#subs.delete(`${tenant}:${pattern}`);
    await this.q.unsubscribe(sub);
  }

  publish(tenant: string, channel: string, payload: Buffer | string, mode: 0 | 1 | 2 = 0): void {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (data.length > 65535) {
      // The SDK refuses to encode it; the relay must refuse it too (framing stays intact).
      const t = Buffer.from(tenant);
      this.q.publishRaw(encodeFrame(FrameType.PUB, channel, Buffer.concat([Buffer.from([mode, t.length]), t, data])));
      return;
    }
    this.q.publish(tenant, channel, typeof payload === 'string' ? Buffer.from(payload) : payload, { mode });
  }

  publishMalformed(kind: 'bad-utf8' | 'bad-mode' | 'wildcard-channel' | 'long-tenant'): void {
    // Well-framed PUB frames with bad bodies: the relay answers ERR and keeps the connection.
    const body = (mode: number, tenant: Buffer, data: string): Buffer => Buffer.concat([Buffer.from([mode, tenant.length]), tenant, Buffer.from(data)]);
    const raw = (channel: string, payload: Buffer): void => {
      this.q.publishRaw(encodeFrame(FrameType.PUB, channel, payload));
    };
    switch (kind) {
      case 'bad-utf8':
        return raw('a.b', body(0, Buffer.from([0xc3, 0x28]), 'x'));
      case 'bad-mode':
        return raw('a.b', body(7, Buffer.from('t1'), 'x'));
      case 'wildcard-channel':
        return raw('a.*', body(0, Buffer.from('t1'), 'x'));
      case 'long-tenant':
        return raw('a.b', body(0, Buffer.from('t'.repeat(129)), 'x'));
    }
  }

  async nextMessage(ms = 2000): Promise<EdgeMessage> {
    const first = await this.#waiter.next(this.#deliveries, ms, 'message');
    if (this.#subs.size > 1) await new Promise((r) => setTimeout(r, MERGE_MS));
    for (let i = 0; i < this.#deliveries.length; ) {
      const d = this.#deliveries[i] as EdgeMessage;
      if (d.tenant === first.tenant && d.channel === first.channel && d.payload.equals(first.payload) && !first.patterns.includes(d.patterns[0] as string)) {
        first.patterns.push(...d.patterns);
        this.#deliveries.splice(i, 1);
      } else i++;
    }
    return first;
  }

  async expectNoMessage(ms = 200): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    assert.equal(this.#deliveries.length, 0, `unexpected message ${JSON.stringify(this.#deliveries[0]?.channel)}`);
  }

  nextError(ms = 2000): Promise<string> {
    return this.#waiter.next(this.#errors, ms, 'ERR');
  }

  async ping(): Promise<void> {
    await this.q.ping();
  }

  async close(): Promise<void> {
    await this.q.closed();
  }
}

function edgeFactory(kind: 'quic' | 'webtransport'): EdgeFactory {
  // The same protocol over raw QUIC, or over WebTransport at the relay's path (our addon is the
  // HTTP/3 client: SETTINGS, extended CONNECT, prefixed streams and datagrams).
  const over = kind === 'webtransport' ? { webTransportPath: '/fastpubsub' } : {};
  // A relay with a generated identity serves h3 clients its short-lived self-signed certificate.
  const ca = (relay: Relay): { caPem?: string } => {
    const pem = kind === 'webtransport' ? (relay.webTransportCertPem ?? relay.quicCaPem) : relay.quicCaPem;
    return pem === undefined ? {} : { caPem: pem };
  };
  return {
    kind,
    async connect(relay: Relay, token: string): Promise<EdgeClient> {
      const errors: string[] = [];
      let wake: () => void = () => {};
      const q = await QuicEdgeClient.connect({
        host: '127.0.0.1',
        port: relay.quicPort as number,
        token,
        ...over,
        ...ca(relay),
        onServerError: (code) => {
          errors.push(code);
          wake();
        },
      });
      return new QuicTestClient(q, errors, (w) => (wake = w), kind);
    },
    async connectRefused(relay: Relay, token: string): Promise<string> {
      try {
        const q = await QuicEdgeClient.connect({ host: '127.0.0.1', port: relay.quicPort as number, token, ...over, ...ca(relay) });
        await q.closed();
      } catch (err) {
        return (err as { serverCode?: string }).serverCode ?? String(err);
      }
      assert.fail('connection was accepted');
    },
  };
}

export const quicEdge: EdgeFactory = edgeFactory('quic');
export const webTransportEdge: EdgeFactory = edgeFactory('webtransport');
