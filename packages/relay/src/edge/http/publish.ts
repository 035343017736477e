// HTTPS publish at every PoP: `POST /v1/publish/{tenant}/{channel}` (the body is the payload,
// as is) and `POST /v1/publish` (a JSON batch). The request carries an access token
// (`Authorization: Bearer AT_…`); the publish grant, the payload limit and the tenant's rate
// limits and quotas are checked exactly as for a WebSocket publish, and an accepted message
// enters the dispatcher (local fan-out, then the mesh) like any other publish.
//
// `Idempotency-Key`: the message id is derived from (tenant, key), so every PoP computes the
// same id and drops a repeat within 60 s (delivery/idempotency.ts). See docs/http-publish.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCode, FpsError, httpStatusFor, isFpsError } from '@fastpubsub/core';
import { isWireError, validateChannel, validateTenant } from '@fastpubsub/wire';
import { Counter, type Registry } from 'prom-client';
import type { EdgeTicket, TicketVerifier } from '../../auth/edge-ticket.js';
import { idempotentMessageId, type DispatchMessage } from '../../delivery/index.js';
import type { Admission } from '../../limits/index.js';
import { readJsonBody, readRawBody } from '@fastpubsub/core';
import { parseBatch, type BatchItem } from './publish-batch.js';

/** Seconds a client should wait after a 429 (buckets refill continuously; one second is a full refill step). */
export const RETRY_AFTER_SECONDS = 1;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface HttpPublishOptions {
  verifier: TicketVerifier;
  dispatcher: { publish(msg: DispatchMessage): boolean };
  admission?: Admission | undefined;
  maxPayloadBytes: number;
  /** Upper bound of a batch request body, in bytes. */
  maxBatchBytes: number;
  /** Upper bound of items in one batch. */
  maxBatchItems: number;
  region: string;
  /** Wall clock, ms since the epoch (token expiry, rate limits). */
  now: () => number;
  registry: Registry;
}

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** One item's answer in a batch: `{id}` when accepted, `{error, message}` otherwise. */
export type ItemResult = { status: 202; id: string } | { status: 400 | 401 | 403 | 413 | 429; error: ErrorCode; message: string };

export class HttpPublisher {
  readonly #o: HttpPublishOptions;
  readonly #requests: Counter<'result'>;

  constructor(o: HttpPublishOptions) {
    this.#o = o;
    this.#requests = new Counter({
      name: 'fastpubsub_http_publish_total',
      help: 'Messages offered on the HTTPS publish endpoints, by result (accepted, or the error code).',
      labelNames: ['result'],
      registers: [o.registry],
    });
    this.#requests.inc({ result: 'accepted' }, 0);
  }

  /** `POST /v1/publish/{tenant}/{channel}`: `rest` is the path after `/v1/publish/`. */
  single(rest: string): HttpHandler {
    return async (req, res) => {
      const ticket = await this.#verify(req);
      try {
        const { tenant, channel } = parseTarget(rest);
        const key = idempotencyKey(req);
        const declared = Number(req.headers['content-length'] ?? 0);
        if (!ticket.canPublish(tenant, channel)) {
          throw new FpsError(ErrorCode.PermissionDenied, `the token may not publish to ${tenant}/${channel}`);
        }
        if (declared > this.#o.maxPayloadBytes) this.#tooLarge();
        const payload = await readRawBody(req, this.#o.maxPayloadBytes).catch((err: unknown) => {
          if (isFpsError(err) && err.code === ErrorCode.PayloadTooLarge) this.#tooLarge();
          throw err;
        });
        const r = this.#publish(ticket, { tenant, channel, payload, ...(key === undefined ? {} : { key }) });
        if (r.status !== 202) throw new FpsError(r.error, r.message);
        sendJson(res, 202, { id: r.id });
      } finally {
        ticket.release?.();
      }
    };
  }

  /** `POST /v1/publish`: a JSON array of `{tenant, channel, data | text}`, answered per item. */
  batch(): HttpHandler {
    return async (req, res) => {
      const ticket = await this.#verify(req);
      try {
        const key = idempotencyKey(req);
        const body = await readJsonBody(req, this.#o.maxBatchBytes);
        const items = parseBatch(body, { maxItems: this.#o.maxBatchItems, maxPayloadBytes: this.#o.maxPayloadBytes });
        const results = items.map((item, i) =>
          this.#publish(ticket, key === undefined || item.key !== undefined ? item : { ...item, key: `${key}/${i}` }),
        );
        if (results.some((r) => r.status === 429)) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
        sendJson(res, 202, { results });
      } finally {
        ticket.release?.();
      }
    };
  }

  async #verify(req: IncomingMessage): Promise<EdgeTicket> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m === null) {
      this.#count(ErrorCode.Unauthorized);
      throw new FpsError(ErrorCode.Unauthorized, 'an access token is required (Authorization: Bearer AT_…)');
    }
    const origin = req.headers.origin;
    try {
      const ticket = await this.#o.verifier.verify(m[1], {
        ip: req.socket.remoteAddress ?? '',
        region: this.#o.region,
        ...(origin === undefined ? {} : { origin }),
      });
      if (ticket.isExpired(this.#o.now())) {
        ticket.release?.();
        throw new FpsError(ErrorCode.TokenExpired, 'access token expired');
      }
      return ticket;
    } catch (err) {
      if (isFpsError(err)) this.#count(err.code);
      throw err;
    }
  }

  /** One message, already parsed: grant, rate limits, idempotency, then the dispatcher. */
  #publish(ticket: EdgeTicket, item: BatchItem): ItemResult {
    const o = this.#o;
    const fail = (code: ErrorCode, message: string): ItemResult => {
      this.#count(code);
      return { status: httpStatusFor(code) as 400 | 401 | 403 | 413 | 429, error: code, message };
    };
    if (!ticket.canPublish(item.tenant, item.channel)) {
      return fail(ErrorCode.PermissionDenied, `the token may not publish to ${item.tenant}/${item.channel}`);
    }
    if (item.payload.byteLength > o.maxPayloadBytes) {
      return fail(ErrorCode.PayloadTooLarge, `payload is larger than ${o.maxPayloadBytes} bytes`);
    }
    if (o.admission?.admitPublish(item.tenant, item.channel, item.payload.byteLength, o.now()) === 'rate_limited') {
      return fail(ErrorCode.RateLimited, 'rate limit or quota exceeded');
    }
    const idempotent = item.key !== undefined;
    const id = idempotent ? idempotentMessageId(item.tenant, item.key as string) : new Uint8Array(randomBytes(16));
    o.dispatcher.publish({
      tenant: item.tenant,
      channel: item.channel,
      payload: item.payload,
      mode: 0,
      arrivedAtMs: performance.now(),
      origin: 'http',
      id,
      ...(idempotent ? { idempotent: true } : {}),
    });
    this.#count('accepted');
    return { status: 202, id: Buffer.from(id).toString('hex') };
  }

  #tooLarge(): never {
    this.#count(ErrorCode.PayloadTooLarge);
    throw new FpsError(ErrorCode.PayloadTooLarge, `payload is larger than ${this.#o.maxPayloadBytes} bytes`);
  }

  #count(result: string): void {
    this.#requests.inc({ result });
  }
}

/** `{tenant}/{channel}`, percent-decoded, both valid names (400 otherwise). */
function parseTarget(rest: string): { tenant: string; channel: string } {
  const parts = rest.split('/');
  if (parts.length !== 2) throw new FpsError(ErrorCode.BadRequest, 'the path must be /v1/publish/{tenant}/{channel}');
  let tenant: string;
  let channel: string;
  try {
    tenant = decodeURIComponent(parts[0] as string);
    channel = decodeURIComponent(parts[1] as string);
  } catch {
    throw new FpsError(ErrorCode.BadRequest, 'the path is not valid percent-encoded UTF-8');
  }
  try {
    validateTenant(tenant);
    validateChannel(channel);
  } catch (err) {
    if (isWireError(err)) throw new FpsError(ErrorCode.InvalidName, err.message);
    throw err;
  }
  return { tenant, channel };
}

function idempotencyKey(req: IncomingMessage): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (key === undefined || !IDEMPOTENCY_KEY.test(key)) {
    throw new FpsError(ErrorCode.BadRequest, 'Idempotency-Key must be 1–255 visible ASCII characters');
  }
  return key;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
