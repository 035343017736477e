// Presence on the QUIC edge (docs/presence.md), C↔S on the control stream:
//   PRESENCE      (0x0B) C→S: topic = channel; payload = u32 request id (nonzero) | u8 op |
//                 u8 tenant_len (nonzero) | tenant | args (UTF-8 JSON object, rest, may be empty)
//   PRESENCE_INFO (0x0C) S→C: topic = channel; payload = u32 request id | u8 kind |
//                 u8 tenant_len (nonzero) | tenant | body (UTF-8 JSON, rest)
// JOIN/LEAVE/WATCH/UNWATCH are answered OK(id, channel) or ERR(code, id, "PRESENCE:{OP}:t:c");
// GET is answered PRESENCE_INFO kind STATE with the GET's id; a WATCH's events come as
// PRESENCE_INFO kind EVENT carrying the WATCH's id. The JSON is the same as the WebSocket
// extension's, so both edges share one grammar. Names and JSON are checked by the relay.
import { badFrame } from '../errors.js';
import { byteLengthOf, decodeUtf8, writeUtf8 } from '../utf8.js';
import { FrameType, allocFrame, checkU32, expectType, readU32, writeU32, type Frame } from './frame.js';

export const PresenceOp = { JOIN: 1, LEAVE: 2, WATCH: 3, UNWATCH: 4, GET: 5 } as const;
export type PresenceOp = (typeof PresenceOp)[keyof typeof PresenceOp];
export const PresenceInfoKind = { EVENT: 1, STATE: 2 } as const;
export type PresenceInfoKind = (typeof PresenceInfoKind)[keyof typeof PresenceInfoKind];

const OP_NAMES: Record<number, string> = {};
for (const [name, value] of Object.entries(PresenceOp)) OP_NAMES[value] = name;

/** "JOIN", "LEAVE", … (the verb of the WebSocket extension). */
export function presenceOpName(op: PresenceOp): string {
  return OP_NAMES[op] as string;
}

export interface PresenceRequestFrame {
  id: number;
  op: PresenceOp;
  tenant: string;
  channel: string;
  /** A JSON object's text, or '' for none. */
  args: string;
}

export interface PresenceInfoFrame {
  id: number;
  kind: PresenceInfoKind;
  tenant: string;
  channel: string;
  /** JSON text: an event ({"type":"join",…}) or a page ({"count","members","next"}). */
  body: string;
}

function encodeWith(type: FrameType, id: number, code: number, tenant: string, channel: string, rest: string, what: string): Uint8Array {
  checkU32(id, `${what} id`);
  const tenantLen = byteLengthOf(tenant, 'tenant');
  if (tenantLen === 0 || tenantLen > 255) throw badFrame(`${what} tenant is ${tenantLen} bytes (1–255)`);
  if (channel.length === 0) throw badFrame(`${what} channel is empty`);
  const restLen = byteLengthOf(rest, `${what} JSON`);
  const { buf, off } = allocFrame(type, channel, 6 + tenantLen + restLen);
  writeU32(buf, off, id);
  buf[off + 4] = code;
  buf[off + 5] = tenantLen;
  writeUtf8(tenant, buf, off + 6, tenantLen);
  writeUtf8(rest, buf, off + 6 + tenantLen, restLen);
  return buf;
}

function decodeWith(frame: Frame<number>, what: string): { id: number; code: number; tenant: string; channel: string; rest: string } {
  const p = frame.payload;
  if (p.length < 7) throw badFrame(`${what} payload is ${p.length} bytes, shorter than 7`);
  const tenantLen = p[5]!;
  if (tenantLen === 0) throw badFrame(`${what} tenant is empty`);
  if (6 + tenantLen > p.length) throw badFrame(`${what} tenant runs past the payload`);
  if (frame.topic.length === 0) throw badFrame(`${what} channel is empty`);
  return {
    id: readU32(p, 0),
    code: p[4]!,
    tenant: decodeUtf8(p, 6, 6 + tenantLen, 'tenant'),
    channel: frame.topic,
    rest: decodeUtf8(p, 6 + tenantLen, p.length, `${what} JSON`),
  };
}

export function encodePresenceRequest(msg: PresenceRequestFrame): Uint8Array {
  if (msg.id === 0) throw badFrame('PRESENCE request id must be nonzero');
  if (OP_NAMES[msg.op] === undefined) throw badFrame(`PRESENCE op ${msg.op} is unknown`);
  return encodeWith(FrameType.PRESENCE, msg.id, msg.op, msg.tenant, msg.channel, msg.args, 'PRESENCE');
}

export function decodePresenceRequest(frame: Frame<number>): PresenceRequestFrame {
  expectType(frame, FrameType.PRESENCE);
  const d = decodeWith(frame, 'PRESENCE');
  if (d.id === 0) throw badFrame('PRESENCE request id must be nonzero');
  if (OP_NAMES[d.code] === undefined) throw badFrame(`PRESENCE op ${d.code} is unknown`);
  return { id: d.id, op: d.code as PresenceOp, tenant: d.tenant, channel: d.channel, args: d.rest };
}

export function encodePresenceInfo(msg: PresenceInfoFrame): Uint8Array {
  if (msg.kind !== PresenceInfoKind.EVENT && msg.kind !== PresenceInfoKind.STATE) throw badFrame(`PRESENCE_INFO kind ${String(msg.kind)} is unknown`);
  return encodeWith(FrameType.PRESENCE_INFO, msg.id, msg.kind, msg.tenant, msg.channel, msg.body, 'PRESENCE_INFO');
}

export function decodePresenceInfo(frame: Frame<number>): PresenceInfoFrame {
  expectType(frame, FrameType.PRESENCE_INFO);
  const d = decodeWith(frame, 'PRESENCE_INFO');
  if (d.code !== PresenceInfoKind.EVENT && d.code !== PresenceInfoKind.STATE) throw badFrame(`PRESENCE_INFO kind ${d.code} is unknown`);
  return { id: d.id, kind: d.code, tenant: d.tenant, channel: d.channel, body: d.rest };
}
