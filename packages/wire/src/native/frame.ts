// Native frames (QUIC edge and mesh): a fixed 6-byte header
//   u8 type | u8 topic_len | u32 payload_len (BE) | topic (UTF-8) | payload
// See spec/protocol.md for each type's payload layout.
import { MAX_FRAME_PAYLOAD, MAX_TOPIC, WireError, badFrame } from '../errors.js';
import { byteLengthOf, decodeUtf8, writeUtf8 } from '../utf8.js';

export const HEADER_SIZE = 6;

export const FrameType = {
  AUTH: 0x01,
  SUB: 0x02,
  UNSUB: 0x03,
  PUB: 0x04,
  MSG: 0x05,
  OK: 0x06,
  ERR: 0x07,
  PING: 0x08,
  PONG: 0x09,
  DMSG: 0x0a,
  /** Presence request, C→S (docs/presence.md). */
  PRESENCE: 0x0b,
  /** Presence answer or event, S→C. */
  PRESENCE_INFO: 0x0c,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** First and last type reserved for relay-to-relay (mesh) frames; the mesh defines them. */
export const MESH_FRAME_TYPE_MIN = 0x40;
export const MESH_FRAME_TYPE_MAX = 0x7f;

const NAMES: Record<number, string> = {};
for (const [name, value] of Object.entries(FrameType)) NAMES[value] = name;

export function isFrameType(t: number): t is FrameType {
  return Number.isInteger(t) && t >= FrameType.AUTH && t <= FrameType.PRESENCE_INFO;
}

export function isMeshFrameType(t: number): boolean {
  return Number.isInteger(t) && t >= MESH_FRAME_TYPE_MIN && t <= MESH_FRAME_TYPE_MAX;
}

/** "SUB", "0x41", ... for messages. */
export function frameTypeName(t: number): string {
  return NAMES[t] ?? `0x${t.toString(16).padStart(2, '0')}`;
}

/**
 * One decoded frame. `payload` is usually a view into the bytes the decoder was given: copy it
 * if it must outlive that buffer. `T` widens to number when a decoder accepts mesh types.
 */
export interface Frame<T extends number = FrameType> {
  type: T;
  topic: string;
  payload: Uint8Array;
}

function checkEncodable(type: number, topicLen: number, payloadLen: number): void {
  if (!isFrameType(type) && !isMeshFrameType(type)) throw badFrame(`cannot encode unknown frame type ${frameTypeName(type)}`);
  if (!Number.isInteger(topicLen) || topicLen < 0 || topicLen > MAX_TOPIC) throw badFrame(`topic is ${topicLen} bytes, more than ${MAX_TOPIC}`);
  if (!Number.isInteger(payloadLen) || payloadLen < 0) throw badFrame(`bad payload length ${payloadLen}`);
  if (payloadLen > MAX_FRAME_PAYLOAD) throw new WireError('payload_too_large', `frame payload is ${payloadLen} bytes, more than ${MAX_FRAME_PAYLOAD}`);
}

function writeHeader(buf: Uint8Array, type: number, topicLen: number, payloadLen: number): void {
  buf[0] = type;
  buf[1] = topicLen;
  buf[2] = payloadLen >>> 24;
  buf[3] = (payloadLen >>> 16) & 0xff;
  buf[4] = (payloadLen >>> 8) & 0xff;
  buf[5] = payloadLen & 0xff;
}

/** The 6 header bytes alone, for corked [header, topic+payload] writes. */
export function encodeFrameHeader(type: number, topicByteLen: number, payloadLen: number): Uint8Array {
  checkEncodable(type, topicByteLen, payloadLen);
  const buf = new Uint8Array(HEADER_SIZE);
  writeHeader(buf, type, topicByteLen, payloadLen);
  return buf;
}

/**
 * Allocates a whole frame, header and topic written, with `payloadLen` bytes for the caller to fill at the
 * returned offset; the typed encoders use it to avoid a second copy.
 */
export function allocFrame(type: number, topic: string, payloadLen: number): { buf: Uint8Array; off: number } {
  const topicLen = byteLengthOf(topic, 'topic');
  checkEncodable(type, topicLen, payloadLen);
  const buf = new Uint8Array(HEADER_SIZE + topicLen + payloadLen);
  writeHeader(buf, type, topicLen, payloadLen);
  return { buf, off: writeUtf8(topic, buf, HEADER_SIZE, topicLen) };
}

export function encodeFrame(type: number, topic: string, payload: Uint8Array): Uint8Array {
  const { buf, off } = allocFrame(type, topic, payload.length);
  buf.set(payload, off);
  return buf;
}

export interface DecodeFrameOptions<T extends number = FrameType> {
  /** Largest accepted payload length; default MAX_FRAME_PAYLOAD. */
  maxPayload?: number;
  /** Which type bytes are accepted; default isFrameType (client frames only). */
  acceptType?: (t: number) => t is T;
}

/** Validates a header at buf[off..off+6); returns [type, topicLen, payloadLen]. */
export function readHeader<T extends number>(
  buf: Uint8Array,
  off: number,
  maxPayload: number,
  acceptType: (t: number) => t is T,
): [T, number, number] {
  const type = buf[off]!;
  if (!acceptType(type)) throw badFrame(`unknown frame type ${frameTypeName(type)}`);
  const topicLen = buf[off + 1]!;
  const payloadLen = ((buf[off + 2]! << 24) >>> 0) + (buf[off + 3]! << 16) + (buf[off + 4]! << 8) + buf[off + 5]!;
  if (payloadLen > maxPayload) {
    throw new WireError('payload_too_large', `${frameTypeName(type)} frame declares a ${payloadLen}-byte payload, more than ${maxPayload}`);
  }
  return [type, topicLen, payloadLen];
}

/**
 * Decodes exactly one frame occupying all of `bytes` (a datagram, or a frame cut out by the
 * caller). Trailing or missing bytes are bad_frame. The payload is a view into `bytes`.
 */
export function decodeFrame<T extends number = FrameType>(bytes: Uint8Array, options?: DecodeFrameOptions<T>): Frame<T> {
  if (bytes.length < HEADER_SIZE) throw badFrame(`frame is ${bytes.length} bytes, shorter than the ${HEADER_SIZE}-byte header`);
  const accept = options?.acceptType ?? (isFrameType as unknown as (t: number) => t is T);
  const [type, topicLen, payloadLen] = readHeader(bytes, 0, options?.maxPayload ?? MAX_FRAME_PAYLOAD, accept);
  const total = HEADER_SIZE + topicLen + payloadLen;
  if (bytes.length !== total) throw badFrame(`${frameTypeName(type)} frame declares ${total} bytes but has ${bytes.length}`);
  const topic = decodeUtf8(bytes, HEADER_SIZE, HEADER_SIZE + topicLen, 'topic');
  return { type, topic, payload: bytes.subarray(HEADER_SIZE + topicLen) };
}

/** Throws bad_frame unless `frame` has type `type`; the typed decoders start with it. */
export function expectType(frame: Frame<number>, type: FrameType): void {
  if (frame.type !== type) throw badFrame(`expected a ${frameTypeName(type)} frame, got ${frameTypeName(frame.type)}`);
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) >>> 0) + (buf[off + 1]! << 16) + (buf[off + 2]! << 8) + buf[off + 3]!;
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

export function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw badFrame(`${what} ${v} is not a u32`);
}
