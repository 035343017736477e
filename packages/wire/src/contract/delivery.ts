// Contract v0.1 §3 delivery, server→client binary WebSocket message:
//   0x01 | str16 tenant | str16 channel | u32 payload_len | payload | u16 count | count × str16 pattern
// (str16 = u16 byte length + UTF-8). The client drops a frame with a wrong tag, a truncated
// field, an empty or non-UTF-8 string, count 0 or trailing bytes; decodeDelivery is as strict.
// Fan-out encodes the head (everything up to the payload) once per message and a tail with
// each connection's matching patterns: concat(head, tail) == encodeDelivery(...).
import { MAX_PAYLOAD, WireError, badFrame } from '../errors.js';
import { byteLengthOf, decodeUtf8, writeUtf8 } from '../utf8.js';

export const DELIVERY_TAG = 0x01;

export interface Delivery {
  tenant: string;
  channel: string;
  /** A view into the message. */
  payload: Uint8Array;
  patterns: string[];
}

function str16Length(s: string, what: string): number {
  const n = byteLengthOf(s, what);
  if (n === 0) throw badFrame(`delivery ${what} is empty`);
  if (n > 0xffff) throw badFrame(`delivery ${what} is ${n} bytes, more than 65535`);
  return n;
}

function writeStr16(buf: Uint8Array, off: number, s: string, len: number): number {
  buf[off] = len >>> 8;
  buf[off + 1] = len & 0xff;
  return writeUtf8(s, buf, off + 2, len);
}

export function encodeDeliveryHead(tenant: string, channel: string, payload: Uint8Array): Uint8Array {
  const tenantLen = str16Length(tenant, 'tenant');
  const channelLen = str16Length(channel, 'channel');
  if (payload.length > MAX_PAYLOAD) throw new WireError('payload_too_large', `delivery payload is ${payload.length} bytes, more than ${MAX_PAYLOAD}`);
  const buf = new Uint8Array(1 + 2 + tenantLen + 2 + channelLen + 4 + payload.length);
  buf[0] = DELIVERY_TAG;
  let off = writeStr16(buf, 1, tenant, tenantLen);
  off = writeStr16(buf, off, channel, channelLen);
  const n = payload.length;
  buf[off] = n >>> 24;
  buf[off + 1] = (n >>> 16) & 0xff;
  buf[off + 2] = (n >>> 8) & 0xff;
  buf[off + 3] = n & 0xff;
  buf.set(payload, off + 4);
  return buf;
}

export function encodeDeliveryTail(patterns: readonly string[]): Uint8Array {
  if (patterns.length === 0) throw badFrame('delivery lists no pattern');
  if (patterns.length > 0xffff) throw badFrame(`delivery lists ${patterns.length} patterns, more than 65535`);
  const lens = patterns.map((p) => str16Length(p, 'pattern'));
  let size = 2;
  for (const n of lens) size += 2 + n;
  const buf = new Uint8Array(size);
  buf[0] = patterns.length >>> 8;
  buf[1] = patterns.length & 0xff;
  let off = 2;
  for (let i = 0; i < patterns.length; i++) off = writeStr16(buf, off, patterns[i]!, lens[i]!);
  return buf;
}

export function encodeDelivery(tenant: string, channel: string, payload: Uint8Array, patterns: readonly string[]): Uint8Array {
  return encodeDeliveryAfter(0, tenant, channel, payload, patterns);
}

/**
 * The delivery encoded at offset `headroom` of one new buffer, whose first `headroom` bytes are
 * left for a transport's own frame header: one allocation and one copy of the payload per
 * frame. `alloc` lets a Node caller take pooled memory (Buffer.allocUnsafe); the bytes before
 * `headroom` are then undefined until the caller writes them.
 */
export function encodeDeliveryAfter(
  headroom: number,
  tenant: string,
  channel: string,
  payload: Uint8Array,
  patterns: readonly string[],
  alloc: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): Uint8Array {
  const tenantLen = str16Length(tenant, 'tenant');
  const channelLen = str16Length(channel, 'channel');
  if (payload.length > MAX_PAYLOAD) throw new WireError('payload_too_large', `delivery payload is ${payload.length} bytes, more than ${MAX_PAYLOAD}`);
  const count = patterns.length;
  if (count === 0) throw badFrame('delivery lists no pattern');
  if (count > 0xffff) throw badFrame(`delivery lists ${count} patterns, more than 65535`);
  // Almost every delivery lists one pattern: its length needs no array.
  const firstLen = str16Length(patterns[0]!, 'pattern');
  const lens = count === 1 ? undefined : patterns.map((p) => str16Length(p, 'pattern'));
  let tailSize = 2;
  if (lens === undefined) tailSize += 2 + firstLen;
  else for (const n of lens) tailSize += 2 + n;
  const n = payload.length;
  const buf = alloc(headroom + 1 + 2 + tenantLen + 2 + channelLen + 4 + n + tailSize);
  buf[headroom] = DELIVERY_TAG;
  let off = writeStr16(buf, headroom + 1, tenant, tenantLen);
  off = writeStr16(buf, off, channel, channelLen);
  buf[off] = n >>> 24;
  buf[off + 1] = (n >>> 16) & 0xff;
  buf[off + 2] = (n >>> 8) & 0xff;
  buf[off + 3] = n & 0xff;
  buf.set(payload, off + 4);
  off += 4 + n;
  buf[off] = count >>> 8;
  buf[off + 1] = count & 0xff;
  off += 2;
  if (lens === undefined) writeStr16(buf, off, patterns[0]!, firstLen);
  else for (let i = 0; i < count; i++) off = writeStr16(buf, off, patterns[i]!, lens[i]!);
  return buf;
}

function readStr16(msg: Uint8Array, off: number, what: string): [string, number] {
  if (off + 2 > msg.length) throw badFrame(`delivery truncated before the ${what} length`);
  const len = (msg[off]! << 8) | msg[off + 1]!;
  if (len === 0) throw badFrame(`delivery ${what} is empty`);
  const start = off + 2;
  if (start + len > msg.length) throw badFrame(`delivery ${what} length ${len} overruns the frame`);
  return [decodeUtf8(msg, start, start + len, what), start + len];
}

export function decodeDelivery(msg: Uint8Array): Delivery {
  if (msg.length === 0 || msg[0] !== DELIVERY_TAG) throw badFrame('delivery tag is not 0x01');
  const [tenant, afterTenant] = readStr16(msg, 1, 'tenant');
  const [channel, afterChannel] = readStr16(msg, afterTenant, 'channel');
  let off = afterChannel;
  if (off + 4 > msg.length) throw badFrame('delivery truncated before the payload length');
  const payloadLen = ((msg[off]! << 24) >>> 0) + (msg[off + 1]! << 16) + (msg[off + 2]! << 8) + msg[off + 3]!;
  off += 4;
  if (payloadLen > msg.length - off) throw badFrame(`delivery payload length ${payloadLen} overruns the frame`);
  const payload = msg.subarray(off, off + payloadLen);
  off += payloadLen;
  if (off + 2 > msg.length) throw badFrame('delivery truncated before the pattern count');
  const count = (msg[off]! << 8) | msg[off + 1]!;
  off += 2;
  if (count === 0) throw badFrame('delivery pattern count is 0');
  const patterns: string[] = [];
  for (let i = 0; i < count; i++) {
    const [p, next] = readStr16(msg, off, 'pattern');
    patterns.push(p);
    off = next;
  }
  if (off !== msg.length) throw badFrame(`delivery has ${msg.length - off} trailing bytes`);
  return { tenant, channel, payload, patterns };
}
