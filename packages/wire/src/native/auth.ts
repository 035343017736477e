// AUTH (0x01), C→S on the control stream, first frame: topic empty, payload = UTF-8 access
// token `AT_<id>_<secret>`. The token's syntax is checked by auth, not here.
import { badFrame } from '../errors.js';
import { decodeUtf8, encodeUtf8 } from '../utf8.js';
import { FrameType, encodeFrame, expectType, type Frame } from './frame.js';

export interface AuthFrame {
  token: string;
}

export function encodeAuth(msg: AuthFrame): Uint8Array {
  if (msg.token.length === 0) throw badFrame('AUTH token is empty');
  return encodeFrame(FrameType.AUTH, '', encodeUtf8(msg.token));
}

export function decodeAuth(frame: Frame<number>): AuthFrame {
  expectType(frame, FrameType.AUTH);
  if (frame.topic !== '') throw badFrame('AUTH topic must be empty');
  if (frame.payload.length === 0) throw badFrame('AUTH token is empty');
  return { token: decodeUtf8(frame.payload, 0, frame.payload.length, 'AUTH token') };
}
