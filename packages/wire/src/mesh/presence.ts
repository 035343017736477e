// PRESENCE (0x48): who is present in which channel, gossiped between PoPs on the control
// stream (spec/protocol.md §8). Payload: strict UTF-8 JSON, one of
//   {"k":"d","o":origin,"e":epoch,"s":seq,"c":[[tenant,channel,clientId,1,data?]|[tenant,channel,clientId,0],…]}
//       a batch of the origin's changes (1 = present with optional data, 0 = gone)
//   {"k":"f","o":origin,"e":epoch,"s":seq,"p":part,"l":last,"m":[[tenant,channel,clientId,data?],…]}
//       one part of the origin's full member list as of seq (parts in order on one stream)
//   {"k":"h","o":origin,"e":epoch,"s":seq,"b":beat}   liveness, flooded; `s` reveals gaps
//   {"k":"r","o":origin}                              please send me your full list of `o`
// `epoch` changes when the origin restarts; `seq` counts its delta batches within an epoch.
import { badFrame } from '../errors.js';
import type { Frame } from '../native/frame.js';
import { MeshFrameType, checkRelayId, encodeMeshFrame, expectMeshType, jsonPayload, parseJsonPayload } from './frame.js';

/** One change: present (with optional member data) or gone. */
export type PresenceChange = [tenant: string, channel: string, clientId: string, present: 1, data?: unknown] | [tenant: string, channel: string, clientId: string, present: 0];
export type PresenceMember = [tenant: string, channel: string, clientId: string, data?: unknown];

export type PresenceFrame =
  | { k: 'd'; o: string; e: string; s: number; c: PresenceChange[] }
  | { k: 'f'; o: string; e: string; s: number; p: number; l: boolean; m: PresenceMember[] }
  | { k: 'h'; o: string; e: string; s: number; b: number }
  | { k: 'r'; o: string };

export function encodePresence(f: PresenceFrame): Uint8Array {
  checkRelayId(f.o, 'PRESENCE origin');
  return encodeMeshFrame(MeshFrameType.PRESENCE, '', jsonPayload(f));
}

const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 256;
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

export function decodePresence(frame: Frame<number>): PresenceFrame {
  expectMeshType(frame, MeshFrameType.PRESENCE, 'PRESENCE');
  const v = parseJsonPayload(frame, 'PRESENCE') as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || typeof v.o !== 'string') throw badFrame('PRESENCE needs an object with "o"');
  checkRelayId(v.o, 'PRESENCE origin');
  if (v.k === 'r') return { k: 'r', o: v.o };
  if (!isStr(v.e) || !isCount(v.s)) throw badFrame('PRESENCE needs "e" (epoch) and "s" (seq)');
  switch (v.k) {
    case 'h':
      if (!isCount(v.b)) throw badFrame('PRESENCE heartbeat needs "b"');
      return { k: 'h', o: v.o, e: v.e, s: v.s, b: v.b };
    case 'd':
      if (!Array.isArray(v.c) || !v.c.every(isChange)) throw badFrame('PRESENCE delta has a malformed change');
      return { k: 'd', o: v.o, e: v.e, s: v.s, c: v.c as PresenceChange[] };
    case 'f':
      if (!isCount(v.p) || typeof v.l !== 'boolean' || !Array.isArray(v.m) || !v.m.every(isMember)) throw badFrame('PRESENCE full list is malformed');
      return { k: 'f', o: v.o, e: v.e, s: v.s, p: v.p, l: v.l, m: v.m as PresenceMember[] };
    default:
      throw badFrame(`PRESENCE kind ${JSON.stringify(v.k)} is unknown`);
  }
}

function isChange(c: unknown): boolean {
  if (!Array.isArray(c) || !isStr(c[0]) || !isStr(c[1]) || !isStr(c[2])) return false;
  return (c[3] === 1 && c.length <= 5) || (c[3] === 0 && c.length === 4);
}

function isMember(m: unknown): boolean {
  return Array.isArray(m) && m.length >= 3 && m.length <= 4 && isStr(m[0]) && isStr(m[1]) && isStr(m[2]);
}
