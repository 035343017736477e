// The WebSocket edge's delivery encoding. Each receiving connection gets one frame listing all
// of its matching patterns (contract §6); through the per-publish Encodings memo a frame is
// built once per distinct pattern list, so in the common case every subscriber is written the
// very same Buffer. The delivery head (tag, tenant, channel, payload) is built once per publish.
import { encodeDeliveryHead, encodeDeliveryTail } from '@fastpubsub/wire';
import { patternsKey, type Encodings } from '../../delivery/index.js';
import { frameMessage } from './frame.js';

/** The complete WebSocket frame (RFC 6455 framing included) delivering `enc.msg` with `patterns`. */
export function wsDeliveryFrame(enc: Encodings, patterns: readonly string[]): Uint8Array {
  return enc.get('ws', patternsKey(patterns), () =>
    frameMessage(true, [
      enc.part('ws-head', (m) => encodeDeliveryHead(m.tenant, m.channel, m.payload)),
      encodeDeliveryTail(patterns),
    ]),
  );
}
