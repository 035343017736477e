// EdgeClient over the WebSocket edge (contract v0.1), on the conformance suite's raw client.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connectWs, type Client, type Relay } from './helpers.js';
import { decodeDelivery, encodePublishV1, encodePublishV2 } from './codec.js';
import { QueueWaiter, type EdgeClient, type EdgeFactory, type EdgeMessage } from './edge-client.js';

class WsEdgeClient implements EdgeClient {
  readonly kind = 'ws' as const;
  readonly #messages: EdgeMessage[] = [];
  readonly #texts: string[] = [];
  readonly #waiter = new QueueWaiter();

  constructor(readonly c: Client) {
    c.ws.on('message', () => this.#pump());
  }

  #pump(): void {
    // Drain the helper's queue into typed queues.
    while (this.c.pending > 0) {
      void this.c.next(0).then((m) => {
        if (m.binary) {
          const d = decodeDelivery(m.data);
          this.#messages.push({ tenant: d.tenant, channel: d.channel, payload: Buffer.from(d.payload), patterns: [...d.patterns] });
        } else this.#texts.push(m.data.toString('utf8'));
        this.#waiter.notify();
      });
    }
  }

  async #text(ms = 2000): Promise<string> {
    return this.#waiter.next(this.#texts, ms, 'text');
  }

  async subscribe(tenant: string, pattern: string): Promise<void> {
    this.c.sendText(`SUB:${tenant}:${pattern}`);
    const t = await this.#text();
    if (t.startsWith('ERR:')) throw new Error(t.slice(4));
    assert.equal(t, `OK:SUB:${tenant}:${pattern}`);
  }

  async subscribeRefused(tenant: string, pattern: string): Promise<string> {
    this.c.sendText(`SUB:${tenant}:${pattern}`);
    const t = await this.#text();
    assert.ok(t.startsWith('ERR:'), `expected ERR, got ${t}`);
    const code = t.slice(4).split(':')[0] as string;
    assert.equal(t, `ERR:${code}:SUB:${tenant}:${pattern}`, 'the ERR names the refused SUB');
    // Contract §11.8: the ERR is followed by an inert OK:SUB that registers nothing.
    assert.equal(await this.#text(), `OK:SUB:${tenant}:${pattern}`);
    return code;
  }

  async unsubscribe(tenant: string, pattern: string): Promise<void> {
    this.c.sendText(`UNSUB:${tenant}:${pattern}`);
    assert.equal(await this.#text(), `OK:UNSUB:${tenant}:${pattern}`);
  }

  publish(tenant: string, channel: string, payload: Buffer | string, mode?: 0 | 1 | 2): void {
    this.c.sendBinary(mode === undefined ? encodePublishV1(tenant, channel, payload) : encodePublishV2(mode, tenant, channel, payload));
  }

  publishMalformed(kind: 'bad-utf8' | 'bad-mode' | 'wildcard-channel' | 'long-tenant'): void {
    switch (kind) {
      case 'bad-utf8':
        return this.c.sendBinary(encodePublishV1(Buffer.from([0xc3, 0x28]), 'a.b', 'x'));
      case 'bad-mode':
        return this.c.sendBinary(encodePublishV2(7, 't1', 'a.b', 'x'));
      case 'wildcard-channel':
        return this.c.sendBinary(encodePublishV1('t1', 'a.*', 'x'));
      case 'long-tenant':
        return this.c.sendBinary(encodePublishV1('t'.repeat(129), 'a.b', 'x'));
    }
  }

  nextMessage(ms = 2000): Promise<EdgeMessage> {
    return this.#waiter.next(this.#messages, ms, 'message');
  }

  async expectNoMessage(ms = 200): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    assert.equal(this.#messages.length, 0, `unexpected message ${JSON.stringify(this.#messages[0]?.channel)}`);
  }

  async nextError(ms = 2000): Promise<string> {
    const t = await this.#text(ms);
    assert.ok(t.startsWith('ERR:'), `expected ERR, got ${t}`);
    return t.slice(4).split(':')[0] as string;
  }

  async ping(): Promise<void> {
    this.c.sendText('PING');
    assert.equal(await this.#text(), 'PONG');
  }

  close(): Promise<void> {
    return this.c.close();
  }
}

export const wsEdge: EdgeFactory = {
  kind: 'ws',
  async connect(relay: Relay, token: string): Promise<EdgeClient> {
    return new WsEdgeClient(await connectWs(relay.wsUrl, token));
  },
  async connectRefused(relay: Relay, token: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(relay.wsUrl, ['llps.v1', `at.${token}`]);
      ws.on('unexpected-response', (_req, res) => {
        resolve(String(res.statusCode));
        ws.terminate();
      });
      ws.on('open', () => {
        ws.terminate();
        reject(new Error('connection was accepted'));
      });
      ws.on('error', () => undefined);
    });
  },
};
