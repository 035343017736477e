// FWD (0x46): one published message travelling the mesh, on a link's message stream.
// Topic empty (a 256-byte channel does not fit a native topic); payload:
//   u8 flags · u8 ttl · u8 mode · id (16 bytes) · str8 origin · u8 n · n × str8 dest ·
//   [flag VIA: u8 m · m × str8 hop] · str8 tenant · str16 channel · data (rest, ≤ 65535)
// With VIA the copy is source-routed: `via` lists the relays it must still pass, in order,
// after the receiver (empty at the last relay before the single destination).
// `dests` are the relays still to reach through the receiver; each hop delivers locally if it
// is listed, then re-splits the rest by its own next hops. The id (unique per origin message)
// is what every hop de-duplicates on.
import { MAX_CHANNEL, MAX_PAYLOAD, MAX_TENANT, WireError, badFrame } from '../errors.js';
import { HEADER_SIZE, type Frame } from '../native/frame.js';
import { MeshFrameType, checkRelayId, expectMeshType } from './frame.js';

export const FWD_ID_BYTES = 16;

export const FwdFlags = {
  /** A copy sent over a second, disjoint path (per-channel redundancy). */
  REDUNDANT: 0x01,
  /** Source-routed: the frame carries `via`, the hops still to take (node-disjoint redundancy). */
  VIA: 0x02,
  /** The id is derived from (tenant, idempotency key): receivers drop a repeat within 60 s. */
  IDEMPOTENT: 0x04,
} as const;

export interface FwdFrame {
  flags: number;
  /** Hops this copy may still take; a receiver drops a copy that arrives with 0. */
  ttl: number;
  /** Publish mode (spec §3): 0 broadcast, 1/2 deliver-one. */
  mode: number;
  /** 16 bytes; a view when decoded. */
  id: Uint8Array;
  origin: string;
  dests: readonly string[];
  /** Source route (flag VIA): relays still to pass after the receiver, in order. */
  via?: readonly string[];
  tenant: string;
  channel: string;
  data: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function encodeFwd(f: FwdFrame): Uint8Array {
  if (!Number.isInteger(f.flags) || f.flags < 0 || f.flags > 0xff) throw badFrame('FWD flags not a u8');
  if (!Number.isInteger(f.ttl) || f.ttl < 0 || f.ttl > 0xff) throw badFrame('FWD ttl not a u8');
  if (f.mode !== 0 && f.mode !== 1 && f.mode !== 2) throw badFrame(`FWD mode ${f.mode}`);
  if (f.id.length !== FWD_ID_BYTES) throw badFrame(`FWD id must be ${FWD_ID_BYTES} bytes`);
  if (f.dests.length === 0 || f.dests.length > 255) throw badFrame(`FWD needs 1–255 destinations, got ${f.dests.length}`);
  if (f.data.length > MAX_PAYLOAD) throw new WireError('payload_too_large', `FWD data is ${f.data.length} bytes, more than ${MAX_PAYLOAD}`);
  checkRelayId(f.origin, 'FWD origin');
  const origin = enc.encode(f.origin);
  const dests = f.dests.map((d) => {
    checkRelayId(d, 'FWD destination');
    return enc.encode(d);
  });
  const via = (f.via ?? []).map((h) => {
    checkRelayId(h, 'FWD via hop');
    return enc.encode(h);
  });
  if (via.length > 255) throw badFrame('FWD via has more than 255 hops');
  const flags = f.via === undefined ? f.flags & ~FwdFlags.VIA : f.flags | FwdFlags.VIA;
  const tenant = enc.encode(f.tenant);
  const channel = enc.encode(f.channel);
  if (tenant.length === 0 || tenant.length > MAX_TENANT) throw badFrame('FWD tenant must be 1–128 bytes');
  if (channel.length === 0 || channel.length > MAX_CHANNEL) throw badFrame('FWD channel must be 1–256 bytes');
  let len = 3 + FWD_ID_BYTES + 1 + origin.length + 1 + 1 + tenant.length + 2 + channel.length + f.data.length;
  for (const d of dests) len += 1 + d.length;
  if (f.via !== undefined) len += 1;
  for (const h of via) len += 1 + h.length;
  const buf = new Uint8Array(HEADER_SIZE + len);
  const view = new DataView(buf.buffer);
  buf[0] = MeshFrameType.FWD;
  view.setUint32(2, len);
  let o = HEADER_SIZE;
  buf[o++] = flags;
  buf[o++] = f.ttl;
  buf[o++] = f.mode;
  buf.set(f.id, o);
  o += FWD_ID_BYTES;
  buf[o++] = origin.length;
  buf.set(origin, o);
  o += origin.length;
  buf[o++] = dests.length;
  for (const d of dests) {
    buf[o++] = d.length;
    buf.set(d, o);
    o += d.length;
  }
  if (f.via !== undefined) {
    buf[o++] = via.length;
    for (const h of via) {
      buf[o++] = h.length;
      buf.set(h, o);
      o += h.length;
    }
  }
  buf[o++] = tenant.length;
  buf.set(tenant, o);
  o += tenant.length;
  view.setUint16(o, channel.length);
  o += 2;
  buf.set(channel, o);
  o += channel.length;
  buf.set(f.data, o);
  return buf;
}

export function decodeFwd(frame: Frame<number>): FwdFrame {
  expectMeshType(frame, MeshFrameType.FWD, 'FWD');
  if (frame.topic !== '') throw badFrame('FWD topic must be empty');
  const p = frame.payload;
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let o = 0;
  const need = (n: number, what: string): void => {
    if (o + n > p.length) throw badFrame(`FWD truncated in ${what}`);
  };
  const str = (n: number, what: string): string => {
    need(n, what);
    let s: string;
    try {
      s = dec.decode(p.subarray(o, o + n));
    } catch {
      throw badFrame(`FWD ${what} is not UTF-8`);
    }
    o += n;
    return s;
  };
  need(3 + FWD_ID_BYTES + 1, 'fixed fields');
  const flags = p[o++]!;
  const ttl = p[o++]!;
  const mode = p[o++]!;
  if (mode > 2) throw badFrame(`FWD mode ${mode}`);
  const id = p.subarray(o, o + FWD_ID_BYTES);
  o += FWD_ID_BYTES;
  const origin = str(p[o++]!, 'origin');
  checkRelayId(origin, 'FWD origin');
  need(1, 'destination count');
  const n = p[o++]!;
  if (n === 0) throw badFrame('FWD without destinations');
  const dests: string[] = [];
  for (let i = 0; i < n; i++) {
    need(1, 'destination');
    const d = str(p[o++]!, 'destination');
    checkRelayId(d, 'FWD destination');
    dests.push(d);
  }
  let via: string[] | undefined;
  if ((flags & FwdFlags.VIA) !== 0) {
    need(1, 'via count');
    const m = p[o++]!;
    via = [];
    for (let i = 0; i < m; i++) {
      need(1, 'via hop');
      const h = str(p[o++]!, 'via hop');
      checkRelayId(h, 'FWD via hop');
      via.push(h);
    }
  }
  need(1, 'tenant');
  const tlen = p[o++]!;
  if (tlen === 0 || tlen > MAX_TENANT) throw badFrame('FWD tenant must be 1–128 bytes');
  const tenant = str(tlen, 'tenant');
  need(2, 'channel length');
  const clen = view.getUint16(o);
  o += 2;
  if (clen === 0 || clen > MAX_CHANNEL) throw badFrame('FWD channel must be 1–256 bytes');
  const channel = str(clen, 'channel');
  const data = p.subarray(o);
  if (data.length > MAX_PAYLOAD) throw new WireError('payload_too_large', `FWD data is ${data.length} bytes, more than ${MAX_PAYLOAD}`);
  return via === undefined
    ? { flags, ttl, mode, id, origin, dests, tenant, channel, data }
    : { flags, ttl, mode, id, origin, dests, via, tenant, channel, data };
}
