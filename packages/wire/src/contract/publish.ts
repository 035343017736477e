// Contract v0.1 §3 publish, client→server binary WebSocket message:
//   v1: u16 tenant_len | tenant | u16 channel_len | channel | payload
//   v2: 0x02 | u8 mode | <v1 layout>
// Byte 0 tells them apart: 0x00 → v1 (tenants ≤ 128 bytes keep the high length byte 0),
// 0x02 → v2, anything else → bad_frame. Checks run in order: structure and UTF-8 (bad_frame),
// tenant then channel names (invalid_name), payload size (payload_too_large).
import { MAX_PAYLOAD, WireError, badFrame } from '../errors.js';
import { validateChannel, validateTenant } from '../names.js';
import { isPublishMode, type PublishMode } from '../native/pub.js';
import { decodeUtf8, writeUtf8, byteLengthOf } from '../utf8.js';

export interface Publish {
  version: 1 | 2;
  mode: PublishMode;
  tenant: string;
  channel: string;
  /** A view into the message: copy it if it must outlive the buffer. */
  payload: Uint8Array;
}

export interface PublishInput {
  tenant: string;
  channel: string;
  payload: Uint8Array;
  /** Omitted → v1 (broadcast); given → v2 with this mode (the SDK sends 1 and 2). */
  mode?: PublishMode;
}

function readStr16(msg: Uint8Array, off: number, what: string): [string, number] {
  if (off + 2 > msg.length) throw badFrame(`publish truncated before the ${what} length`);
  const len = (msg[off]! << 8) | msg[off + 1]!;
  if (len === 0) throw badFrame(`publish ${what} length is 0`);
  const start = off + 2;
  if (start + len > msg.length) throw badFrame(`publish ${what} length ${len} overruns the frame`);
  return [decodeUtf8(msg, start, start + len, what), start + len];
}

export function decodePublish(msg: Uint8Array): Publish {
  if (msg.length === 0) throw badFrame('publish is empty');
  let version: 1 | 2;
  let mode: PublishMode = 0;
  let off: number;
  if (msg[0] === 0x00) {
    version = 1;
    off = 0;
  } else if (msg[0] === 0x02) {
    version = 2;
    if (msg.length < 2) throw badFrame('publish v2 truncated before the mode');
    const m = msg[1]!;
    if (!isPublishMode(m)) throw badFrame(`unknown publish mode ${m}`);
    mode = m;
    off = 2;
  } else {
    throw badFrame(`publish starts with 0x${msg[0]!.toString(16).padStart(2, '0')}, expected 0x00 (v1) or 0x02 (v2)`);
  }
  const [tenant, afterTenant] = readStr16(msg, off, 'tenant');
  const [channel, afterChannel] = readStr16(msg, afterTenant, 'channel');
  validateTenant(tenant);
  validateChannel(channel);
  const payload = msg.subarray(afterChannel);
  if (payload.length > MAX_PAYLOAD) throw new WireError('payload_too_large', `publish payload is ${payload.length} bytes, more than ${MAX_PAYLOAD}`);
  return { version, mode, tenant, channel, payload };
}

/** SDK side. Validates like decodePublish, so whatever it returns the relay accepts. */
export function encodePublish(input: PublishInput): Uint8Array {
  const { tenant, channel, payload, mode } = input;
  validateTenant(tenant);
  validateChannel(channel);
  if (mode !== undefined && !isPublishMode(mode)) throw badFrame(`unknown publish mode ${String(mode)}`);
  if (payload.length > MAX_PAYLOAD) throw new WireError('payload_too_large', `publish payload is ${payload.length} bytes, more than ${MAX_PAYLOAD}`);
  const tenantLen = byteLengthOf(tenant, 'tenant');
  const channelLen = byteLengthOf(channel, 'channel');
  const head = mode === undefined ? 0 : 2;
  const buf = new Uint8Array(head + 4 + tenantLen + channelLen + payload.length);
  if (mode !== undefined) {
    buf[0] = 0x02;
    buf[1] = mode;
  }
  let off = head;
  buf[off] = tenantLen >>> 8;
  buf[off + 1] = tenantLen & 0xff;
  off = writeUtf8(tenant, buf, off + 2, tenantLen);
  buf[off] = channelLen >>> 8;
  buf[off + 1] = channelLen & 0xff;
  off = writeUtf8(channel, buf, off + 2, channelLen);
  buf.set(payload, off);
  return buf;
}
