// Server→client WebSocket frames (RFC 6455 §5.2), built here rather than by ws's Sender so a
// delivery is framed once and the very same bytes are written to every subscriber's socket.
// Server frames are never masked; we never fragment and never compress (no extensions, §2).

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;

/** The longest frame header (64-bit length): the headroom a body must leave for it. */
export const MAX_FRAME_HEADER_BYTES = 10;

/** Header bytes of an unmasked frame carrying `bodyLength` bytes. */
export function frameHeaderLength(bodyLength: number): number {
  return bodyLength < 126 ? 2 : bodyLength < 0x10000 ? 4 : 10;
}

/** Writes the header of an unmasked final frame at `buf[off]`; its length is frameHeaderLength(bodyLength). */
export function writeFrameHeader(buf: Uint8Array, off: number, binary: boolean, bodyLength: number): void {
  const headerLength = frameHeaderLength(bodyLength);
  buf[off] = FIN | (binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (headerLength === 2) {
    buf[off + 1] = bodyLength;
  } else if (headerLength === 4) {
    buf[off + 1] = 126;
    buf[off + 2] = bodyLength >>> 8;
    buf[off + 3] = bodyLength & 0xff;
  } else {
    buf[off + 1] = 127;
    const high = Math.floor(bodyLength / 0x1_0000_0000);
    const low = bodyLength >>> 0;
    for (let i = 0; i < 4; i++) {
      buf[off + 2 + i] = (high >>> (24 - 8 * i)) & 0xff;
      buf[off + 6 + i] = (low >>> (24 - 8 * i)) & 0xff;
    }
  }
}

/**
 * A binary frame around a body that was encoded after MAX_FRAME_HEADER_BYTES of headroom:
 * the header goes right before the body and the frame is a view of the same memory, no copy.
 */
export function frameInPlace(withHeadroom: Uint8Array): Uint8Array {
  const bodyLength = withHeadroom.byteLength - MAX_FRAME_HEADER_BYTES;
  const start = MAX_FRAME_HEADER_BYTES - frameHeaderLength(bodyLength);
  writeFrameHeader(withHeadroom, start, true, bodyLength);
  return withHeadroom.subarray(start);
}

/** One complete frame: header and the given body parts, in a single buffer. */
export function frameMessage(binary: boolean, parts: readonly Uint8Array[]): Buffer {
  let bodyLength = 0;
  for (const p of parts) bodyLength += p.byteLength;
  const headerLength = frameHeaderLength(bodyLength);
  const out = Buffer.allocUnsafe(headerLength + bodyLength);
  writeFrameHeader(out, 0, binary, bodyLength);
  let off = headerLength;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

export function frameText(text: string): Buffer {
  return frameMessage(false, [Buffer.from(text, 'utf8')]);
}
