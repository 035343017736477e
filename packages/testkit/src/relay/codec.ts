// An independent implementation of the contract v0.1 binary frames (contract §3), written from
// the contract text only. It deliberately does not import @fastpubsub/wire: two implementations
// written separately catch each other's codec bugs.
//
// Publish v1:  u16 tenant_len | tenant | u16 channel_len | channel | payload
// Publish v2:  0x02 | u8 mode | <v1 layout>
// Delivery:    0x01 | str16 tenant | str16 channel | u32 payload_len | payload | u16 count | count × str16 pattern

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export type Bytes = Buffer | Uint8Array | string;

function bytes(v: Bytes): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** Publish v1 (broadcast). Tenant and channel may be raw bytes so tests can send invalid UTF-8. */
export function encodePublishV1(tenant: Bytes, channel: Bytes, payload: Bytes = Buffer.alloc(0)): Buffer {
  const t = bytes(tenant);
  const c = bytes(channel);
  return Buffer.concat([u16(t.length), t, u16(c.length), c, bytes(payload)]);
}

/** Publish v2: `0x02 | mode | v1`. Mode 0 broadcast, 1 deliver-one-low-latency, 2 deliver-one-random. */
export function encodePublishV2(mode: number, tenant: Bytes, channel: Bytes, payload: Bytes = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([0x02, mode]), encodePublishV1(tenant, channel, payload)]);
}

export interface Delivery {
  tenant: string;
  channel: string;
  payload: Buffer;
  patterns: string[];
}

/** Builds the delivery bytes the relay must send, for byte-exact comparisons. */
export function encodeDelivery(d: { tenant: string; channel: string; payload: Bytes; patterns: readonly string[] }): Buffer {
  const t = bytes(d.tenant);
  const c = bytes(d.channel);
  const p = bytes(d.payload);
  const parts: Buffer[] = [Buffer.from([0x01]), u16(t.length), t, u16(c.length), c, u32(p.length), p, u16(d.patterns.length)];
  for (const pat of d.patterns) {
    const b = bytes(pat);
    parts.push(u16(b.length), b);
  }
  return Buffer.concat(parts);
}

export class DeliveryDecodeError extends Error {
  override name = 'DeliveryDecodeError';
}

/**
 * Strict delivery decoder: rejects everything the SDK would drop (contract §3) — a wrong tag, a
 * truncated field, an empty or non-UTF-8 string, a zero pattern count, trailing bytes — and also
 * duplicate patterns (contract §6, "no duplicates").
 */
export function decodeDelivery(frame: Uint8Array): Delivery {
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  let off = 0;
  const need = (n: number, what: string): void => {
    if (off + n > buf.length) {
      throw new DeliveryDecodeError(`truncated ${what}: need ${n} bytes at offset ${off}, frame is ${buf.length}`);
    }
  };
  const str16 = (what: string): string => {
    need(2, `${what} length`);
    const len = buf.readUInt16BE(off);
    off += 2;
    if (len === 0) throw new DeliveryDecodeError(`empty ${what}`);
    need(len, what);
    const raw = buf.subarray(off, off + len);
    off += len;
    try {
      return strictUtf8.decode(raw);
    } catch {
      throw new DeliveryDecodeError(`${what} is not UTF-8`);
    }
  };
  need(1, 'tag');
  if (buf[0] !== 0x01) throw new DeliveryDecodeError(`wrong tag 0x${(buf[0] ?? 0).toString(16)}`);
  off = 1;
  const tenant = str16('tenant');
  const channel = str16('channel');
  need(4, 'payload length');
  const payloadLen = buf.readUInt32BE(off);
  off += 4;
  need(payloadLen, 'payload');
  const payload = Buffer.from(buf.subarray(off, off + payloadLen));
  off += payloadLen;
  need(2, 'pattern count');
  const count = buf.readUInt16BE(off);
  off += 2;
  if (count === 0) throw new DeliveryDecodeError('pattern count is 0');
  const patterns: string[] = [];
  for (let i = 0; i < count; i++) patterns.push(str16(`pattern ${i}`));
  if (off !== buf.length) throw new DeliveryDecodeError(`${buf.length - off} trailing bytes after the last pattern`);
  if (new Set(patterns).size !== patterns.length) {
    throw new DeliveryDecodeError(`duplicate patterns: ${patterns.join(',')}`);
  }
  return { tenant, channel, payload, patterns };
}

/** Parses a hex string with optional whitespace, as the contract writes its examples. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}
