// MSG (0x05), S→C on a subscription's own unidirectional stream: topic = channel, payload =
// data. DMSG (0x0A), S→C datagram: topic = channel, payload = u32 subscription id | data.
// For fan-out encode a MSG once and write the same bytes to every subscriber stream.
import { MAX_PAYLOAD, WireError, badFrame } from '../errors.js';
import { FrameType, allocFrame, checkU32, encodeFrame, expectType, readU32, writeU32, type Frame } from './frame.js';

export interface MsgFrame {
  channel: string;
  data: Uint8Array;
}

export interface DmsgFrame {
  id: number;
  channel: string;
  data: Uint8Array;
}

function checkData(what: string, data: Uint8Array): void {
  if (data.length > MAX_PAYLOAD) throw new WireError('payload_too_large', `${what} data is ${data.length} bytes, more than ${MAX_PAYLOAD}`);
}

export function encodeMsg(msg: MsgFrame): Uint8Array {
  if (msg.channel.length === 0) throw badFrame('MSG channel is empty');
  checkData('MSG', msg.data);
  return encodeFrame(FrameType.MSG, msg.channel, msg.data);
}

export function decodeMsg(frame: Frame<number>): MsgFrame {
  expectType(frame, FrameType.MSG);
  if (frame.topic === '') throw badFrame('MSG channel is empty');
  checkData('MSG', frame.payload);
  return { channel: frame.topic, data: frame.payload };
}

export function encodeDmsg(msg: DmsgFrame): Uint8Array {
  checkU32(msg.id, 'DMSG subscription id');
  if (msg.id === 0) throw badFrame('DMSG subscription id must be nonzero');
  if (msg.channel.length === 0) throw badFrame('DMSG channel is empty');
  checkData('DMSG', msg.data);
  const { buf, off } = allocFrame(FrameType.DMSG, msg.channel, 4 + msg.data.length);
  writeU32(buf, off, msg.id);
  buf.set(msg.data, off + 4);
  return buf;
}

export function decodeDmsg(frame: Frame<number>): DmsgFrame {
  expectType(frame, FrameType.DMSG);
  const p = frame.payload;
  if (frame.topic === '') throw badFrame('DMSG channel is empty');
  if (p.length < 4) throw badFrame(`DMSG payload is ${p.length} bytes, shorter than 4`);
  const id = readU32(p, 0);
  if (id === 0) throw badFrame('DMSG subscription id must be nonzero');
  const data = p.subarray(4);
  checkData('DMSG', data);
  return { id, channel: frame.topic, data };
}
