// The native frames (spec/protocol.md §2–§3) the browser's WebTransport transport needs, kept
// small and apart from @fastpubsub/wire so the lazily loaded chunk shares nothing with the
// WebSocket entry (the entry stays within its size budget). The relay validates everything we
// send; here we only frame, and check what we receive is well formed.
export const T = { AUTH: 1, SUB: 2, UNSUB: 3, PUB: 4, MSG: 5, OK: 6, ERR: 7, PING: 8, PONG: 9, DMSG: 10 } as const;
/** The largest payload a frame may carry (65535 data + 256 for the per-type prefix). */
const MAX_PAYLOAD = 65535 + 256;

export interface WtFrame {
  type: number;
  topic: string;
  payload: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function u32(n: number): Uint8Array {
  return new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at] as number) * 0x1000000 + (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number))) >>> 0;
}

export function frame(type: number, topic: string, ...parts: Uint8Array[]): Uint8Array {
  const t = enc.encode(topic);
  if (t.length > 255) throw new RangeError(`topic over 255 bytes`);
  const len = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(6 + t.length + len);
  out.set([type, t.length], 0);
  out.set(u32(len), 2);
  out.set(t, 6);
  let at = 6 + t.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const auth = (token: string): Uint8Array => frame(T.AUTH, '', enc.encode(token));
export const sub = (id: number, tenant: string, pattern: string, flags: number): Uint8Array => frame(T.SUB, pattern, u32(id), new Uint8Array([flags]), enc.encode(tenant));
export const unsub = (id: number, tenant: string, pattern: string): Uint8Array => frame(T.UNSUB, pattern, u32(id), enc.encode(tenant));
export function pub(mode: number, tenant: string, channel: string, data: Uint8Array): Uint8Array {
  const t = enc.encode(tenant);
  return frame(T.PUB, channel, new Uint8Array([mode, t.length]), t, data);
}
export const ping = (): Uint8Array => frame(T.PING, '');

/** One complete frame at the start of `b` and its length, or undefined if more bytes are needed. */
function parse(b: Uint8Array): [WtFrame, number] | undefined {
  if (b.length < 6) return undefined;
  const tl = b[1] as number;
  const pl = readU32(b, 2);
  if (pl > MAX_PAYLOAD) throw new RangeError(`frame payload of ${pl} bytes`);
  const end = 6 + tl + pl;
  if (b.length < end) return undefined;
  return [{ type: b[0] as number, topic: dec.decode(b.subarray(6, 6 + tl)), payload: b.slice(6 + tl, end) }, end];
}

/** A datagram holds exactly one frame. */
export function parseDatagram(d: Uint8Array): WtFrame {
  const r = parse(d);
  if (r === undefined || r[1] !== d.length) throw new RangeError('malformed datagram');
  return r[0];
}

/** Frames of a byte stream, across chunk boundaries. */
export class Deframer {
  #buf = new Uint8Array(0);

  feed(chunk: Uint8Array, onFrame: (f: WtFrame) => void): void {
    let b = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk);
    for (let r = parse(b); r !== undefined; r = parse(b)) {
      b = b.subarray(r[1]);
      onFrame(r[0]);
    }
    this.#buf = b.slice();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** ERR payload: u32 id, then the detail. */
export function errOf(f: WtFrame): { code: string; id: number; detail: string } {
  return { code: f.topic, id: readU32(f.payload, 0), detail: dec.decode(f.payload.subarray(4)) };
}

