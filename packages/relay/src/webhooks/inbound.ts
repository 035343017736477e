// Inbound webhooks: `POST /v1/hooks/{hookId}` at any PoP. The hook (from the control plane)
// says which tenant, which channel (fixed, or a JSON pointer into the body) and how requests
// are signed. The signature is checked before anything is published; the body is then
// published as is, through the same admission (rate limits, quotas) and dispatcher (local
// fan-out, then the mesh) as an HTTPS publish.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCode, FpsError, isFpsError } from '@fastpubsub/core';
import type { InboundHook } from '@fastpubsub/protocol';
import { isWireError, validateChannel } from '@fastpubsub/wire';
import { Counter, type Registry } from 'prom-client';
import { idempotentMessageId, type DispatchMessage } from '../delivery/index.js';
import type { Admission } from '../limits/index.js';
import { verifyInbound } from './signatures.js';

export type HookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface InboundOptions {
  dispatcher: { publish(msg: DispatchMessage): boolean };
  admission?: Admission | undefined;
  maxPayloadBytes: number;
  /** Wall clock, ms since the epoch (signature timestamps, rate limits). */
  now: () => number;
  registry: Registry;
}

export class InboundHooks {
  readonly #o: InboundOptions;
  #hooks = new Map<string, InboundHook>();
  readonly #requests: Counter<'result'>;

  constructor(o: InboundOptions) {
    this.#o = o;
    this.#requests = new Counter({
      name: 'fastpubsub_webhook_inbound_total',
      help: 'Requests to inbound webhooks (POST /v1/hooks/{id}), by result (accepted, or the error code).',
      labelNames: ['result'],
      registers: [o.registry],
    });
    this.#requests.inc({ result: 'accepted' }, 0);
  }

  setHooks(hooks: readonly InboundHook[]): void {
    this.#hooks = new Map(hooks.map((h) => [h.id, h]));
  }

  /** `POST /v1/hooks/{hookId}`: `rest` is the path after `/v1/hooks/`. */
  handler(rest: string): HookHandler {
    return async (req, res) => {
      try {
        const id = await this.#accept(rest, req);
        sendJson(res, 202, { id });
        this.#requests.inc({ result: 'accepted' });
      } catch (err) {
        this.#requests.inc({ result: isFpsError(err) ? err.code : ErrorCode.Internal });
        throw err;
      }
    };
  }

  async #accept(rest: string, req: IncomingMessage): Promise<string> {
    const o = this.#o;
    const hook = this.#hooks.get(rest);
    if (hook === undefined) throw new FpsError(ErrorCode.NotFound, `no inbound hook ${rest.slice(0, 64)}`);
    if (Number(req.headers['content-length'] ?? 0) > o.maxPayloadBytes) tooLarge(o.maxPayloadBytes);
    const body = await readBody(req, o.maxPayloadBytes);
    const header = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    verifyInbound(hook.scheme, hook.secret, header, body, o.now());
    const channel = hook.channel ?? channelFromBody(body, hook.channelPointer ?? '');
    if (o.admission?.admitPublish(hook.tenant, channel, body.byteLength, o.now()) === 'rate_limited') {
      throw new FpsError(ErrorCode.RateLimited, 'rate limit or quota exceeded');
    }
    // A sender's retry of one delivery carries the same delivery id: published once, mesh-wide.
    const delivery = hook.scheme === 'standard' ? header('webhook-id') : hook.scheme === 'github' ? header('x-github-delivery') : undefined;
    const key = delivery === undefined ? undefined : `hook:${hook.id}:${delivery.slice(0, 255)}`;
    const msgId = key === undefined ? new Uint8Array(randomBytes(16)) : idempotentMessageId(hook.tenant, key);
    o.dispatcher.publish({
      tenant: hook.tenant,
      channel,
      payload: body,
      mode: 0,
      arrivedAtMs: performance.now(),
      origin: 'http',
      id: msgId,
      ...(key === undefined ? {} : { idempotent: true }),
    });
    return Buffer.from(msgId).toString('hex');
  }
}

/** The channel a JSON pointer (RFC 6901) names in a JSON body; 400 if it names no valid channel. */
export function channelFromBody(body: Uint8Array, pointer: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new FpsError(ErrorCode.BadRequest, 'the body must be JSON: this hook takes its channel from it');
  }
  let node: unknown = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, token)) {
      node = undefined;
      break;
    }
    node = (node as Record<string, unknown>)[token];
  }
  if (typeof node !== 'string') throw new FpsError(ErrorCode.BadRequest, `${pointer} does not name a string in the body`, { detail: 'channel_pointer' });
  try {
    validateChannel(node);
  } catch (err) {
    if (isWireError(err)) throw new FpsError(ErrorCode.InvalidName, `${pointer}: ${err.message}`);
    throw err;
  }
  return node;
}

function tooLarge(max: number): never {
  throw new FpsError(ErrorCode.PayloadTooLarge, `payload is larger than ${max} bytes`);
}

/** The raw body, refusing (and not reading further) past `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        reject(new FpsError(ErrorCode.PayloadTooLarge, `payload is larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (e) => reject(new FpsError(ErrorCode.BadRequest, 'request body could not be read', { cause: e })));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
