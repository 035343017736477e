// HTTPS publish (docs/http-publish.md): one message per request, or a batch, with an access
// token. For servers and scripts that publish without holding a connection. Browser-safe
// (fetch only). Errors are ClientErrors: unauthorized (401), forbidden (403), rate_limited
// (429, `retryAfterMs` from Retry-After), http (other non-2xx, e.g. 400/413 with the body).
import { ClientError, abortError } from './errors.js';
import { parseEdge } from './endpoint.js';

export const HTTP_PUBLISH_TIMEOUT_MS = 5000;

export interface HttpPublishOptions {
  /** Edge base URL (`https://host`, `http://127.0.0.1:7700` or bare `host[:port]`). */
  url: string;
  /** Access token `AT_…` with the publish grant for the channel. */
  token: string;
  /** Same key within 60 s publishes once, at whichever PoP it is sent to. */
  idempotencyKey?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface HttpBatchItem {
  tenant: string;
  channel: string;
  /** Bytes go as base64 `data`, a string as `text`. */
  payload: Uint8Array | string;
  idempotencyKey?: string;
}

export type HttpBatchResult = { status: 202; id: string } | { status: number; error: string; message: string };

/** Publishes one message over HTTPS; resolves with the message id. */
export async function publishHttp(tenant: string, channel: string, payload: Uint8Array | string, o: HttpPublishOptions): Promise<{ id: string }> {
  const path = `/v1/publish/${encodeURIComponent(tenant)}/${encodeURIComponent(channel)}`;
  const body = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const reply = await call(path, body, 'application/octet-stream', o);
  const id = (reply as { id?: unknown }).id;
  if (typeof id !== 'string') throw new ClientError('protocol', `POST ${path} reply lacks "id"`);
  return { id };
}

/** Publishes a batch; resolves with one result per item, in order. */
export async function publishHttpBatch(items: readonly HttpBatchItem[], o: HttpPublishOptions): Promise<HttpBatchResult[]> {
  const body = items.map((it) => ({
    tenant: it.tenant,
    channel: it.channel,
    ...(typeof it.payload === 'string' ? { text: it.payload } : { data: toBase64(it.payload) }),
    ...(it.idempotencyKey === undefined ? {} : { idempotency_key: it.idempotencyKey }),
  }));
  const reply = await call('/v1/publish', new TextEncoder().encode(JSON.stringify(body)), 'application/json', o);
  const results = (reply as { results?: unknown }).results;
  if (!Array.isArray(results) || results.length !== items.length) throw new ClientError('protocol', 'POST /v1/publish reply lacks one result per item');
  return results as HttpBatchResult[];
}

async function call(path: string, body: Uint8Array, contentType: string, o: HttpPublishOptions): Promise<unknown> {
  const base = parseEdge(o.url).httpUrl;
  if (o.signal?.aborted) throw abortError(o.signal);
  const ac = new AbortController();
  const timeoutMs = o.timeoutMs ?? HTTP_PUBLISH_TIMEOUT_MS;
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const onAbort = (): void => ac.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const headers: Record<string, string> = { authorization: `Bearer ${o.token}`, 'content-type': contentType };
  if (o.idempotencyKey !== undefined) headers['idempotency-key'] = o.idempotencyKey;
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${base}${path}`, { method: 'POST', headers, body: new Uint8Array(body), signal: ac.signal });
    text = await res.text();
  } catch (err) {
    if (o.signal?.aborted) throw abortError(o.signal);
    if (ac.signal.aborted) throw new ClientError('timeout', `POST ${base}${path} timed out after ${timeoutMs} ms`);
    throw new ClientError('connect_failed', `POST ${base}${path} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (res.status < 200 || res.status > 299) {
    const code = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : res.status === 429 ? 'rate_limited' : 'http';
    const retry = Number(res.headers.get('retry-after'));
    throw new ClientError(code, `POST ${path} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, {
      status: res.status,
      detail: text,
      ...(res.status === 429 && Number.isFinite(retry) && retry >= 0 ? { retryAfterMs: retry * 1000 } : {}),
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ClientError('protocol', `POST ${path} answered non-JSON: ${text.slice(0, 200)}`, { status: res.status });
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
