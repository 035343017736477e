// PUB (0x04), C→S on the control stream or as a datagram (one frame per datagram):
//   topic = channel; payload = u8 mode | u8 tenant_len | tenant | data
// Like contract publish, a zero length or unknown mode is bad_frame and data over MAX_PAYLOAD
// is payload_too_large; names are validated by the relay (invalid_name).
import { MAX_PAYLOAD, WireError, badFrame } from '../errors.js';
import { byteLengthOf, decodeUtf8, writeUtf8 } from '../utf8.js';
import { FrameType, allocFrame, expectType, type Frame } from './frame.js';

/** 0 broadcast, 1 deliver-one (lowest latency), 2 deliver-one (random); contract §6. */
export type PublishMode = 0 | 1 | 2;

export const PublishMode = {
  BROADCAST: 0,
  ONE_LOW_LATENCY: 1,
  ONE_RANDOM: 2,
} as const satisfies Record<string, PublishMode>;

export function isPublishMode(m: number): m is PublishMode {
  return m === 0 || m === 1 || m === 2;
}

export interface PubFrame {
  mode: PublishMode;
  tenant: string;
  channel: string;
  data: Uint8Array;
}

export function encodePub(msg: PubFrame): Uint8Array {
  if (!isPublishMode(msg.mode)) throw badFrame(`unknown publish mode ${String(msg.mode)}`);
  if (msg.channel.length === 0) throw badFrame('PUB channel is empty');
  const tenantLen = byteLengthOf(msg.tenant, 'tenant');
  if (tenantLen === 0 || tenantLen > 0xff) throw badFrame(`PUB tenant is ${tenantLen} bytes, not 1..255`);
  if (msg.data.length > MAX_PAYLOAD) throw new WireError('payload_too_large', `PUB data is ${msg.data.length} bytes, more than ${MAX_PAYLOAD}`);
  const { buf, off } = allocFrame(FrameType.PUB, msg.channel, 2 + tenantLen + msg.data.length);
  buf[off] = msg.mode;
  buf[off + 1] = tenantLen;
  buf.set(msg.data, writeUtf8(msg.tenant, buf, off + 2, tenantLen));
  return buf;
}

export function decodePub(frame: Frame<number>): PubFrame {
  expectType(frame, FrameType.PUB);
  const p = frame.payload;
  if (frame.topic === '') throw badFrame('PUB channel is empty');
  if (p.length < 2) throw badFrame(`PUB payload is ${p.length} bytes, shorter than 2`);
  const mode = p[0]!;
  if (!isPublishMode(mode)) throw badFrame(`unknown publish mode ${mode}`);
  const tenantLen = p[1]!;
  if (tenantLen === 0) throw badFrame('PUB tenant is empty');
  if (2 + tenantLen > p.length) throw badFrame(`PUB tenant length ${tenantLen} overruns the payload`);
  const data = p.subarray(2 + tenantLen);
  if (data.length > MAX_PAYLOAD) throw new WireError('payload_too_large', `PUB data is ${data.length} bytes, more than ${MAX_PAYLOAD}`);
  return { mode, tenant: decodeUtf8(p, 2, 2 + tenantLen, 'tenant'), channel: frame.topic, data };
}
