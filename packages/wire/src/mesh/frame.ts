// Mesh (relay-to-relay) frames: the native 6-byte header with types from the 0x40–0x7F range
// (spec/protocol.md §8). The mesh allows a larger payload than client frames, because a
// forwarded message carries its routing header (destinations, origin, id) on top of a full
// 64 KiB application payload, and a control frame (interest, routes) can list many entries.
import { MAX_PAYLOAD, WireError, badFrame } from '../errors.js';
import { HEADER_SIZE, MESH_FRAME_TYPE_MAX, MESH_FRAME_TYPE_MIN, type Frame } from '../native/frame.js';
import { FrameDecoder } from '../native/decoder.js';

export const MeshFrameType = {
  HELLO: 0x40,
  PROBE: 0x41,
  PROBE_ACK: 0x42,
  ROUTE: 0x43,
  INTEREST: 0x44,
  PEERS: 0x45,
  FWD: 0x46,
  INTEREST_ACK: 0x47,
  PRESENCE: 0x48,
} as const;
export type MeshFrameType = (typeof MeshFrameType)[keyof typeof MeshFrameType];

/** Payload cap of a mesh decoder: 1 MiB (control frames); a FWD is at most ~82 KiB. */
export const MESH_MAX_FRAME_PAYLOAD = 1024 * 1024;

/** Relay ids: 1–64 bytes of `A–Z a–z 0–9 _ - .` (they appear in certificates and paths). */
export const MAX_RELAY_ID = 64;
const RELAY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function isRelayId(s: string): boolean {
  return RELAY_ID.test(s);
}

export function checkRelayId(s: string, what = 'relay id'): void {
  if (!RELAY_ID.test(s)) throw badFrame(`${what} '${s.slice(0, 80)}' is not 1–64 bytes of [A-Za-z0-9_.-]`);
}

export function isKnownMeshFrameType(t: number): t is MeshFrameType {
  return Number.isInteger(t) && t >= MeshFrameType.HELLO && t <= MeshFrameType.PRESENCE;
}

/** Accepts the whole reserved range, so a newer peer's frame type is skipped, not fatal. */
export function isMeshRange(t: number): t is number {
  return Number.isInteger(t) && t >= MESH_FRAME_TYPE_MIN && t <= MESH_FRAME_TYPE_MAX;
}

/** A stream decoder for a mesh link: mesh types only, mesh payload cap. */
export function createMeshDecoder(maxPayload = MESH_MAX_FRAME_PAYLOAD): FrameDecoder<number> {
  return new FrameDecoder<number>({ maxPayload, acceptType: isMeshRange });
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Header + topic + payload in one buffer. Mesh frames bypass encodeFrame's client payload cap. */
export function encodeMeshFrame(type: MeshFrameType, topic: string, payload: Uint8Array): Uint8Array {
  const t = textEncoder.encode(topic);
  if (t.length > 255) throw badFrame(`mesh topic is ${t.length} bytes, more than 255`);
  if (payload.length > MESH_MAX_FRAME_PAYLOAD) {
    throw new WireError('payload_too_large', `mesh frame payload is ${payload.length} bytes, more than ${MESH_MAX_FRAME_PAYLOAD}`);
  }
  const buf = new Uint8Array(HEADER_SIZE + t.length + payload.length);
  buf[0] = type;
  buf[1] = t.length;
  new DataView(buf.buffer).setUint32(2, payload.length);
  buf.set(t, HEADER_SIZE);
  buf.set(payload, HEADER_SIZE + t.length);
  return buf;
}

/** Strict UTF-8 JSON for control payloads (they arrive from the network). */
export function jsonPayload(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}

export function parseJsonPayload(frame: Frame<number>, what: string): unknown {
  try {
    return JSON.parse(textDecoder.decode(frame.payload));
  } catch {
    throw badFrame(`${what} payload is not UTF-8 JSON`);
  }
}

export function expectMeshType(frame: Frame<number>, type: MeshFrameType, name: string): void {
  if (frame.type !== type) throw badFrame(`expected a mesh ${name} frame, got type 0x${frame.type.toString(16)}`);
}

export { MAX_PAYLOAD };
