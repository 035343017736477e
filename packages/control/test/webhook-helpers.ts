// Webhook test helpers: senders' signatures computed here from the published scheme
// definitions (not with the relay's code), a real local HTTP receiver, and hook registration.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { http, sleep, waitFor } from '@fastpubsub/testkit/relay';

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Standard Webhooks: base64 HMAC-SHA256 over "{id}.{ts}.{body}" with the key after `whsec_`. */
export function standardSignature(secret: string, id: string, ts: number, body: string | Buffer): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
}

export function githubSignature(secret: string, body: string | Buffer): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

export function stripeSignature(secret: string, ts: number, body: string | Buffer): string {
  return `t=${ts},v1=` + createHmac('sha256', secret).update(`${ts}.`).update(body).digest('hex');
}

/** A receiver's check of an outbound delivery (Standard Webhooks). */
export function verifiesStandard(secret: string, headers: IncomingMessage['headers'], body: Buffer): boolean {
  const id = String(headers['webhook-id']);
  const ts = Number(headers['webhook-timestamp']);
  if (Math.abs(nowSeconds() - ts) > 300) return false;
  const expected = Buffer.from(standardSignature(secret, id, ts, body));
  return String(headers['webhook-signature'])
    .split(' ')
    .some((s) => Buffer.from(s).length === expected.length && timingSafeEqual(Buffer.from(s), expected));
}

export interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
  atMs: number;
}

/** A real HTTP server on loopback; `answer` decides each request's fate (status, or 'hang'). */
export class Receiver {
  readonly received: Received[] = [];
  /** The most requests held open at once (answer 'hang'): the sender's concurrency. */
  maxHanging = 0;
  readonly #server: Server;
  readonly #hanging = new Set<ServerResponse>();
  url = '';

  constructor(readonly answer: (n: number, r: Received) => number | 'hang' = () => 200) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = { headers: req.headers, body: Buffer.concat(chunks), atMs: Date.now() };
        this.received.push(r);
        const a = this.answer(this.received.length, r);
        if (a === 'hang') {
          this.#hanging.add(res);
          this.maxHanging = Math.max(this.maxHanging, this.#hanging.size);
          res.on('close', () => this.#hanging.delete(res));
          return;
        }
        res.writeHead(a).end();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async close(): Promise<void> {
    for (const r of this.#hanging) r.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export async function createHook(controlUrl: string, tenant: string, direction: 'inbound' | 'outbound', body: object): Promise<{ id: string; secret?: string }> {
  const r = await http(controlUrl, 'POST', `/v1/tenants/${tenant}/hooks/${direction}`, { body });
  assert.equal(r.status, 201, `create ${direction} hook: ${r.status} ${r.text}`);
  return r.json as { id: string; secret?: string };
}

/**
 * Waits until `relay` knows the inbound hook: an oversize probe answers 413 (known, nothing
 * published) instead of 404.
 */
export async function waitForInbound(relayUrl: string, hookId: string): Promise<void> {
  const probe = new Uint8Array(70_000);
  await waitFor(async () => {
    const res = await fetch(`${relayUrl}/v1/hooks/${hookId}`, { method: 'POST', body: probe, signal: AbortSignal.timeout(2000) });
    await res.text();
    return res.status !== 404;
  }, 5000, `inbound hook ${hookId} at ${relayUrl}`);
  await sleep(20);
}

export function postHook(relayUrl: string, hookId: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${relayUrl}/v1/hooks/${hookId}`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body), signal: AbortSignal.timeout(5000) });
}
