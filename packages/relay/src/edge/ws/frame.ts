// Server→client WebSocket frames (RFC 6455 §5.2), built here rather than by ws's Sender so a
// delivery is framed once and the very same bytes are written to every subscriber's socket.
// Server frames are never masked; we never fragment and never compress (no extensions, §2).

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;

/** One complete frame: header and the given body parts, in a single buffer. */
export function frameMessage(binary: boolean, parts: readonly Uint8Array[]): Buffer {
  let bodyLength = 0;
  for (const p of parts) bodyLength += p.byteLength;
  const headerLength = bodyLength < 126 ? 2 : bodyLength < 0x10000 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + bodyLength);
  out[0] = FIN | (binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (headerLength === 2) {
    out[1] = bodyLength;
  } else if (headerLength === 4) {
    out[1] = 126;
    out.writeUInt16BE(bodyLength, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(bodyLength / 0x1_0000_0000), 2);
    out.writeUInt32BE(bodyLength >>> 0, 6);
  }
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
