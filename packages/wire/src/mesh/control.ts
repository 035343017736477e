// Mesh control frames, sent on a link's control stream. They are rare (once per link, per
// second, or per interest change), so their payloads are JSON: readable in dumps, and checked
// strictly here because they arrive from the network.
//   HELLO (0x40)    topic = sender relay id   {"v":1,"boot":n,"addr":"host:port"?}
//   ROUTE (0x43)    topic empty               opaque route advert (relay/src/mesh/route/advert.ts)
//   INTEREST (0x44) topic = origin relay id   {"v":1,"seq":n,"t":{"tenant":["pattern",…]}}
//   PEERS (0x45)    topic empty               {"v":1,"p":[{"id":"…","addr":"host:port"}]}
//   INTEREST_ACK (0x47) topic = origin relay id {"v":1,"seq":n,"from":"relay id","ttl":n}
import { badFrame } from '../errors.js';
import { isValidPattern, isValidTenant } from '../names.js';
import type { Frame } from '../native/frame.js';
import { MeshFrameType, checkRelayId, encodeMeshFrame, expectMeshType, jsonPayload, parseJsonPayload } from './frame.js';

export interface HelloFrame {
  id: string;
  /** Boot epoch of the sender (ms since the epoch at start): tells a restart from a reconnect. */
  boot: number;
  /** Mesh address other relays may dial to reach the sender (peer exchange), if it has one. */
  addr?: string;
}

export interface InterestFrame {
  origin: string;
  /** Increases with every change at the origin; receivers keep the highest. */
  seq: number;
  /** tenant → patterns held by the origin's local subscribers (a full snapshot). */
  tenants: Record<string, string[]>;
}

/** `from` holds the origin's interest snapshot `seq` (or newer); routed hop by hop to the origin. */
export interface InterestAckFrame {
  origin: string;
  seq: number;
  from: string;
  /** Hops left; a relay forwards with ttl − 1 and drops at 0. */
  ttl: number;
}

export interface PeerEntry {
  id: string;
  addr: string;
}

const ADDR = /^[^\s]{1,300}:\d{1,5}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSeq(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw badFrame(`${what} must be a non-negative integer`);
  return n;
}

export function encodeHello(h: HelloFrame): Uint8Array {
  checkRelayId(h.id);
  checkSeq(h.boot, 'HELLO boot');
  if (h.addr !== undefined && !ADDR.test(h.addr)) throw badFrame(`HELLO addr '${h.addr}' is not host:port`);
  return encodeMeshFrame(MeshFrameType.HELLO, h.id, jsonPayload({ v: 1, boot: h.boot, ...(h.addr === undefined ? {} : { addr: h.addr }) }));
}

export function decodeHello(frame: Frame<number>): HelloFrame {
  expectMeshType(frame, MeshFrameType.HELLO, 'HELLO');
  checkRelayId(frame.topic);
  const v = parseJsonPayload(frame, 'HELLO');
  if (!isObject(v) || v['v'] !== 1) throw badFrame('HELLO: unknown version');
  const boot = checkSeq(v['boot'], 'HELLO boot');
  const addr = v['addr'];
  if (addr !== undefined && (typeof addr !== 'string' || !ADDR.test(addr))) throw badFrame('HELLO addr is not host:port');
  return { id: frame.topic, boot, ...(addr === undefined ? {} : { addr }) };
}

export function encodeRoute(advert: Uint8Array): Uint8Array {
  return encodeMeshFrame(MeshFrameType.ROUTE, '', advert);
}

export function decodeRoute(frame: Frame<number>): Uint8Array {
  expectMeshType(frame, MeshFrameType.ROUTE, 'ROUTE');
  if (frame.topic !== '') throw badFrame('ROUTE topic must be empty');
  return frame.payload;
}

export function encodeInterest(i: InterestFrame): Uint8Array {
  checkRelayId(i.origin, 'INTEREST origin');
  checkSeq(i.seq, 'INTEREST seq');
  for (const [tenant, patterns] of Object.entries(i.tenants)) {
    if (!isValidTenant(tenant)) throw badFrame(`INTEREST: invalid tenant '${tenant}'`);
    for (const p of patterns) if (!isValidPattern(p)) throw badFrame(`INTEREST: invalid pattern '${p}'`);
  }
  return encodeMeshFrame(MeshFrameType.INTEREST, i.origin, jsonPayload({ v: 1, seq: i.seq, t: i.tenants }));
}

export function decodeInterest(frame: Frame<number>): InterestFrame {
  expectMeshType(frame, MeshFrameType.INTEREST, 'INTEREST');
  checkRelayId(frame.topic, 'INTEREST origin');
  const v = parseJsonPayload(frame, 'INTEREST');
  if (!isObject(v) || v['v'] !== 1) throw badFrame('INTEREST: unknown version');
  const seq = checkSeq(v['seq'], 'INTEREST seq');
  const t = v['t'];
  if (!isObject(t)) throw badFrame('INTEREST: tenants must be an object');
  const tenants: Record<string, string[]> = {};
  for (const [tenant, patterns] of Object.entries(t)) {
    if (!isValidTenant(tenant)) throw badFrame(`INTEREST: invalid tenant '${tenant.slice(0, 130)}'`);
    if (!Array.isArray(patterns) || !patterns.every((p): p is string => typeof p === 'string' && isValidPattern(p))) {
      throw badFrame(`INTEREST: invalid pattern list for tenant '${tenant}'`);
    }
    tenants[tenant] = patterns;
  }
  return { origin: frame.topic, seq, tenants };
}

export function encodePeers(peers: readonly PeerEntry[]): Uint8Array {
  for (const p of peers) {
    checkRelayId(p.id, 'PEERS id');
    if (!ADDR.test(p.addr)) throw badFrame(`PEERS addr '${p.addr}' is not host:port`);
  }
  return encodeMeshFrame(MeshFrameType.PEERS, '', jsonPayload({ v: 1, p: peers.map((p) => ({ id: p.id, addr: p.addr })) }));
}

export function decodePeers(frame: Frame<number>): PeerEntry[] {
  expectMeshType(frame, MeshFrameType.PEERS, 'PEERS');
  const v = parseJsonPayload(frame, 'PEERS');
  if (!isObject(v) || v['v'] !== 1 || !Array.isArray(v['p'])) throw badFrame('PEERS: unknown version or no list');
  return v['p'].map((e: unknown) => {
    if (!isObject(e) || typeof e['id'] !== 'string' || typeof e['addr'] !== 'string' || !ADDR.test(e['addr'])) {
      throw badFrame('PEERS: malformed entry');
    }
    checkRelayId(e['id'], 'PEERS id');
    return { id: e['id'], addr: e['addr'] };
  });
}

export function encodeInterestAck(a: InterestAckFrame): Uint8Array {
  checkRelayId(a.origin, 'INTEREST_ACK origin');
  checkRelayId(a.from, 'INTEREST_ACK from');
  checkSeq(a.seq, 'INTEREST_ACK seq');
  if (!Number.isInteger(a.ttl) || a.ttl < 0 || a.ttl > 255) throw badFrame('INTEREST_ACK ttl must be 0–255');
  return encodeMeshFrame(MeshFrameType.INTEREST_ACK, a.origin, jsonPayload({ v: 1, seq: a.seq, from: a.from, ttl: a.ttl }));
}

export function decodeInterestAck(frame: Frame<number>): InterestAckFrame {
  expectMeshType(frame, MeshFrameType.INTEREST_ACK, 'INTEREST_ACK');
  checkRelayId(frame.topic, 'INTEREST_ACK origin');
  const v = parseJsonPayload(frame, 'INTEREST_ACK');
  if (!isObject(v) || v['v'] !== 1) throw badFrame('INTEREST_ACK: unknown version');
  const seq = checkSeq(v['seq'], 'INTEREST_ACK seq');
  const from = v['from'];
  if (typeof from !== 'string') throw badFrame('INTEREST_ACK from must be a relay id');
  checkRelayId(from, 'INTEREST_ACK from');
  const ttl = v['ttl'];
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 255) throw badFrame('INTEREST_ACK ttl must be 0–255');
  return { origin: frame.topic, seq, from, ttl };
}
