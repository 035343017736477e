// The body of `POST /v1/publish`: a JSON array of `{tenant, channel, data | text,
// idempotency_key?}` (`data` base64, `text` UTF-8). Parsed whole before anything is published:
// a malformed item fails the request with 400 and a message naming the item by index.
import { ErrorCode, FpsError } from '@fastpubsub/core';
import { isWireError, validateChannel, validateTenant } from '@fastpubsub/wire';

export interface BatchItem {
  tenant: string;
  channel: string;
  payload: Uint8Array;
  /** The item's idempotency key, if it has one. */
  key?: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const FIELDS = new Set(['tenant', 'channel', 'data', 'text', 'idempotency_key']);

export function parseBatch(body: unknown, limits: { maxItems: number; maxPayloadBytes: number }): BatchItem[] {
  if (!Array.isArray(body)) throw new FpsError(ErrorCode.BadRequest, 'the batch must be a JSON array');
  if (body.length === 0) throw new FpsError(ErrorCode.BadRequest, 'the batch is empty');
  if (body.length > limits.maxItems) {
    throw new FpsError(ErrorCode.BadRequest, `the batch has ${body.length} items, more than ${limits.maxItems}`);
  }
  return body.map((raw: unknown, i) => parseItem(raw, i, limits.maxPayloadBytes));
}

function parseItem(raw: unknown, i: number, maxPayloadBytes: number): BatchItem {
  const bad = (what: string, code: ErrorCode = ErrorCode.BadRequest): FpsError =>
    new FpsError(code, `item ${i}: ${what}`, { detail: `item:${i}` });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('must be an object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) throw bad(`unknown field "${k}"`);
  if (typeof o.tenant !== 'string') throw bad('"tenant" must be a string');
  if (typeof o.channel !== 'string') throw bad('"channel" must be a string');
  try {
    validateTenant(o.tenant);
    validateChannel(o.channel);
  } catch (err) {
    if (isWireError(err)) throw bad(err.message);
    throw err;
  }
  if ((o.data === undefined) === (o.text === undefined)) throw bad('exactly one of "data" (base64) and "text" is required');
  let payload: Uint8Array;
  if (o.data !== undefined) {
    if (typeof o.data !== 'string' || o.data.length % 4 !== 0 || !BASE64.test(o.data)) throw bad('"data" must be standard base64');
    payload = new Uint8Array(Buffer.from(o.data, 'base64'));
  } else {
    if (typeof o.text !== 'string') throw bad('"text" must be a string');
    payload = new Uint8Array(Buffer.from(o.text, 'utf8'));
  }
  if (payload.byteLength > maxPayloadBytes) throw bad(`payload is larger than ${maxPayloadBytes} bytes`, ErrorCode.PayloadTooLarge);
  const item: BatchItem = { tenant: o.tenant, channel: o.channel, payload };
  if (o.idempotency_key !== undefined) {
    if (typeof o.idempotency_key !== 'string' || !IDEMPOTENCY_KEY.test(o.idempotency_key)) {
      throw bad('"idempotency_key" must be 1–255 visible ASCII characters');
    }
    item.key = o.idempotency_key;
  }
  return item;
}
