// SUB (0x02) and UNSUB (0x03), C→S on the control stream.
//   SUB:   topic = pattern; payload = u32 subscription id (nonzero) | u8 flags | tenant
//   UNSUB: topic = pattern; payload = u32 subscription id (nonzero) | tenant
// Names are not validated here: the relay calls validateTenant/validatePattern so that it can
// answer invalid_name / invalid_pattern, exactly as for the text commands.
import { badFrame } from '../errors.js';
import { byteLengthOf, decodeUtf8, writeUtf8 } from '../utf8.js';
import { FrameType, allocFrame, checkU32, expectType, readU32, writeU32, type Frame } from './frame.js';

/** SUB flag bits. Undefined bits are ignored by decoders (reserved for later use). */
export const SubFlags = {
  /** Deliver by DMSG datagrams instead of the subscription stream ("latest matters"). */
  DATAGRAM: 0x01,
  /**
   * Latest mode: only the newest message per channel counts. The relay coalesces the
   * subscription's queue (at most one message per channel) and sends what fits as DMSG datagrams.
   */
  LATEST: 0x02,
} as const;

/**
 * Topic prefix of the OK frame a relay writes on a latest subscription's stream, after the
 * binding OK: `OK(id, "superseded:<n>")` says n messages of it were replaced by newer ones
 * before it could read them. Clients that ignore non-MSG frames there lose nothing.
 */
export const SUPERSEDED_NOTICE = 'superseded:';

/** The count of a supersession notice topic, or undefined when the topic is not one. */
export function parseSupersededNotice(topic: string): number | undefined {
  if (!topic.startsWith(SUPERSEDED_NOTICE)) return undefined;
  const n = Number(topic.slice(SUPERSEDED_NOTICE.length));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export interface SubFrame {
  id: number;
  flags: number;
  tenant: string;
  pattern: string;
}

export interface UnsubFrame {
  id: number;
  tenant: string;
  pattern: string;
}

function checkId(id: number, what: string): void {
  checkU32(id, `${what} subscription id`);
  if (id === 0) throw badFrame(`${what} subscription id must be nonzero`);
}

export function encodeSub(msg: SubFrame): Uint8Array {
  checkId(msg.id, 'SUB');
  if (!Number.isInteger(msg.flags) || msg.flags < 0 || msg.flags > 0xff) throw badFrame(`SUB flags ${msg.flags} is not a u8`);
  const tenantLen = byteLengthOf(msg.tenant, 'tenant');
  const { buf, off } = allocFrame(FrameType.SUB, msg.pattern, 5 + tenantLen);
  writeU32(buf, off, msg.id);
  buf[off + 4] = msg.flags;
  writeUtf8(msg.tenant, buf, off + 5, tenantLen);
  return buf;
}

export function decodeSub(frame: Frame<number>): SubFrame {
  expectType(frame, FrameType.SUB);
  const p = frame.payload;
  if (p.length < 5) throw badFrame(`SUB payload is ${p.length} bytes, shorter than 5`);
  const id = readU32(p, 0);
  if (id === 0) throw badFrame('SUB subscription id must be nonzero');
  return { id, flags: p[4]!, tenant: decodeUtf8(p, 5, p.length, 'tenant'), pattern: frame.topic };
}

export function encodeUnsub(msg: UnsubFrame): Uint8Array {
  checkId(msg.id, 'UNSUB');
  const tenantLen = byteLengthOf(msg.tenant, 'tenant');
  const { buf, off } = allocFrame(FrameType.UNSUB, msg.pattern, 4 + tenantLen);
  writeU32(buf, off, msg.id);
  writeUtf8(msg.tenant, buf, off + 4, tenantLen);
  return buf;
}

export function decodeUnsub(frame: Frame<number>): UnsubFrame {
  expectType(frame, FrameType.UNSUB);
  const p = frame.payload;
  if (p.length < 4) throw badFrame(`UNSUB payload is ${p.length} bytes, shorter than 4`);
  const id = readU32(p, 0);
  if (id === 0) throw badFrame('UNSUB subscription id must be nonzero');
  return { id, tenant: decodeUtf8(p, 4, p.length, 'tenant'), pattern: frame.topic };
}
