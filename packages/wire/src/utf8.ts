// UTF-8 helpers without Node built-ins (browsers use this package). Decoding is fatal: invalid
// UTF-8 on the wire is a protocol error, never silently replaced with U+FFFD.
import { badFrame } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * UTF-8 byte length of `s`, or -1 if `s` holds a lone surrogate (it would not round-trip:
 * TextEncoder turns it into U+FFFD).
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return -1;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else n += 3;
  }
  return n;
}

/** Byte length of a string that must be well-formed; `what` names it in the error. */
export function byteLengthOf(s: string, what: string): number {
  const n = utf8Length(s);
  if (n < 0) throw badFrame(`${what} is not well-formed Unicode (lone surrogate)`);
  return n;
}

/** Writes `s` (whose UTF-8 length is `len`) at `off`; returns the offset after it. */
export function writeUtf8(s: string, buf: Uint8Array, off: number, len: number): number {
  if (len === s.length) {
    // All ASCII: a plain loop beats encodeInto's call overhead for short names.
    for (let i = 0; i < len; i++) buf[off + i] = s.charCodeAt(i);
  } else {
    encoder.encodeInto(s, buf.subarray(off, off + len));
  }
  return off + len;
}

export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes buf[start, end) strictly; throws bad_frame naming `what` on invalid UTF-8. */
export function decodeUtf8(buf: Uint8Array, start: number, end: number, what: string): string {
  if (end - start <= 64) {
    let ascii = '';
    let i = start;
    for (; i < end; i++) {
      const b = buf[i]!;
      if (b >= 0x80) break;
      ascii += String.fromCharCode(b);
    }
    if (i === end) return ascii;
  }
  try {
    return decoder.decode(buf.subarray(start, end));
  } catch {
    throw badFrame(`${what} is not valid UTF-8`);
  }
}
