// PROBE (0x41) and PROBE_ACK (0x42): one QUIC datagram each, so a lost probe is a lost
// packet (a stream would retransmit it and hide the loss). Topic empty, payload `u32 seq`.
import { badFrame } from '../errors.js';
import { HEADER_SIZE, type Frame } from '../native/frame.js';
import { MeshFrameType } from './frame.js';

export interface ProbeFrame {
  ack: boolean;
  seq: number;
}

export function encodeProbe(p: ProbeFrame): Uint8Array {
  if (!Number.isInteger(p.seq) || p.seq < 0 || p.seq > 0xffffffff) throw badFrame(`probe seq ${p.seq} is not a u32`);
  const buf = new Uint8Array(HEADER_SIZE + 4);
  buf[0] = p.ack ? MeshFrameType.PROBE_ACK : MeshFrameType.PROBE;
  buf[5] = 4;
  new DataView(buf.buffer).setUint32(HEADER_SIZE, p.seq);
  return buf;
}

export function decodeProbe(frame: Frame<number>): ProbeFrame {
  if (frame.type !== MeshFrameType.PROBE && frame.type !== MeshFrameType.PROBE_ACK) throw badFrame('not a probe frame');
  if (frame.topic !== '') throw badFrame('probe topic must be empty');
  if (frame.payload.length !== 4) throw badFrame(`probe payload is ${frame.payload.length} bytes, expected 4`);
  const p = frame.payload;
  return { ack: frame.type === MeshFrameType.PROBE_ACK, seq: new DataView(p.buffer, p.byteOffset, 4).getUint32(0) };
}
