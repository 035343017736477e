// Server replies and liveness on the control stream:
//   OK   (0x06) S→C: topic = the command's topic echoed (pattern, or empty); payload = u32 id
//        (request/subscription id, 0 = AUTH). Also the first frame of every subscription
//        stream, binding the stream to that subscription id.
//   ERR  (0x07) S→C: topic = error code; payload = u32 request id (0 = none) | UTF-8 detail.
//   PING (0x08) / PONG (0x09), either direction: topic empty; payload = nonce (≤ 64 bytes),
//        echoed unchanged in the PONG.
import { badFrame } from '../errors.js';
import { byteLengthOf, decodeUtf8, writeUtf8 } from '../utf8.js';
import { FrameType, allocFrame, checkU32, encodeFrame, expectType, readU32, writeU32, type Frame } from './frame.js';

export const MAX_NONCE = 64;

export interface OkFrame {
  id: number;
  /** The echoed command topic: the pattern for SUB/UNSUB, '' for AUTH and stream binding. */
  topic: string;
}

export interface ErrFrame {
  code: string;
  /** The request (subscription) id the error answers; 0 when not tied to a request. */
  id: number;
  detail: string;
}

export function encodeOk(msg: OkFrame): Uint8Array {
  checkU32(msg.id, 'OK id');
  const { buf, off } = allocFrame(FrameType.OK, msg.topic, 4);
  writeU32(buf, off, msg.id);
  return buf;
}

export function decodeOk(frame: Frame<number>): OkFrame {
  expectType(frame, FrameType.OK);
  if (frame.payload.length !== 4) throw badFrame(`OK payload is ${frame.payload.length} bytes, not 4`);
  return { id: readU32(frame.payload, 0), topic: frame.topic };
}

export function encodeErr(msg: ErrFrame): Uint8Array {
  checkU32(msg.id, 'ERR id');
  if (msg.code.length === 0) throw badFrame('ERR code is empty');
  const detailLen = byteLengthOf(msg.detail, 'ERR detail');
  const { buf, off } = allocFrame(FrameType.ERR, msg.code, 4 + detailLen);
  writeU32(buf, off, msg.id);
  writeUtf8(msg.detail, buf, off + 4, detailLen);
  return buf;
}

export function decodeErr(frame: Frame<number>): ErrFrame {
  expectType(frame, FrameType.ERR);
  const p = frame.payload;
  if (frame.topic === '') throw badFrame('ERR code is empty');
  if (p.length < 4) throw badFrame(`ERR payload is ${p.length} bytes, shorter than 4`);
  return { code: frame.topic, id: readU32(p, 0), detail: decodeUtf8(p, 4, p.length, 'ERR detail') };
}

function checkNonce(what: string, nonce: Uint8Array): void {
  if (nonce.length > MAX_NONCE) throw badFrame(`${what} nonce is ${nonce.length} bytes, more than ${MAX_NONCE}`);
}

export function encodePing(nonce: Uint8Array): Uint8Array {
  checkNonce('PING', nonce);
  return encodeFrame(FrameType.PING, '', nonce);
}

export function encodePong(nonce: Uint8Array): Uint8Array {
  checkNonce('PONG', nonce);
  return encodeFrame(FrameType.PONG, '', nonce);
}

function decodeLiveness(frame: Frame<number>, type: FrameType, what: string): Uint8Array {
  expectType(frame, type);
  if (frame.topic !== '') throw badFrame(`${what} topic must be empty`);
  checkNonce(what, frame.payload);
  return frame.payload;
}

/** Returns the nonce (a view). */
export function decodePing(frame: Frame<number>): Uint8Array {
  return decodeLiveness(frame, FrameType.PING, 'PING');
}

export function decodePong(frame: Frame<number>): Uint8Array {
  return decodeLiveness(frame, FrameType.PONG, 'PONG');
}
