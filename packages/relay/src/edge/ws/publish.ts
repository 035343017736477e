// The WebSocket edge's delivery encoding. Each receiving connection gets one frame listing all
// of its matching patterns (contract §6); through the per-publish Encodings memo a frame is
// built once per distinct pattern list, so in the common case every subscriber is written the
// very same bytes. A frame is one pooled allocation: the delivery is encoded after room for the
// frame header, which is then written in place, so the payload is copied once per frame.
import { encodeDeliveryAfter } from '@fastpubsub/wire';
import { patternsKey, type DispatchMessage, type EncodingCache } from '../../delivery/index.js';
import { MAX_FRAME_HEADER_BYTES, frameInPlace } from './frame.js';

const FORMAT = 'ws';
const allocPooled = (size: number): Uint8Array => Buffer.allocUnsafe(size);

/** The complete WebSocket frame (RFC 6455 framing included) delivering `enc.msg` with `patterns`. */
export function wsDeliveryFrame(enc: EncodingCache, patterns: readonly string[]): Uint8Array {
  // No closure per delivery: look the frame up first, build it only on a miss.
  const key = patternsKey(patterns);
  return enc.find(FORMAT, key) ?? enc.put(FORMAT, key, buildFrame(enc.msg, patterns));
}

function buildFrame(m: DispatchMessage, patterns: readonly string[]): Uint8Array {
  return frameInPlace(encodeDeliveryAfter(MAX_FRAME_HEADER_BYTES, m.tenant, m.channel, m.payload, patterns, allocPooled));
}
