// @fastpubsub/wire: frame codecs for the native (QUIC, mesh) and contract v0.1 (WebSocket)
// protocols. Pure: no I/O, no Node built-ins. Byte layouts: spec/protocol.md.
export {
  WireError,
  isWireError,
  type WireErrorCode,
  MAX_PAYLOAD,
  MAX_TOPIC,
  MAX_TENANT,
  MAX_CHANNEL,
  MAX_PATTERN,
  MAX_FRAME_PAYLOAD,
} from './errors.js';
export { utf8Length } from './utf8.js';
export {
  validateTenant,
  validateChannel,
  validatePattern,
  isValidTenant,
  isValidChannel,
  isValidPattern,
} from './names.js';

export {
  HEADER_SIZE,
  FrameType,
  MESH_FRAME_TYPE_MIN,
  MESH_FRAME_TYPE_MAX,
  isFrameType,
  isMeshFrameType,
  frameTypeName,
  encodeFrame,
  encodeFrameHeader,
  decodeFrame,
  type Frame,
  type DecodeFrameOptions,
} from './native/frame.js';
export { FrameDecoder, type FrameDecoderOptions } from './native/decoder.js';
export { encodeAuth, decodeAuth, type AuthFrame } from './native/auth.js';
export { SubFlags, SUPERSEDED_NOTICE, parseSupersededNotice, encodeSub, decodeSub, encodeUnsub, decodeUnsub, type SubFrame, type UnsubFrame } from './native/sub.js';
export { PublishMode, isPublishMode, encodePub, decodePub, type PubFrame } from './native/pub.js';
export {
  PresenceOp,
  PresenceInfoKind,
  presenceOpName,
  encodePresenceRequest,
  decodePresenceRequest,
  encodePresenceInfo,
  decodePresenceInfo,
  type PresenceRequestFrame,
  type PresenceInfoFrame,
} from './native/presence.js';
export { encodeMsg, decodeMsg, encodeDmsg, decodeDmsg, type MsgFrame, type DmsgFrame } from './native/msg.js';
export {
  MAX_NONCE,
  encodeOk,
  decodeOk,
  encodeErr,
  decodeErr,
  encodePing,
  decodePing,
  encodePong,
  decodePong,
  type OkFrame,
  type ErrFrame,
} from './native/control.js';

export { decodePublish, encodePublish, type Publish, type PublishInput } from './contract/publish.js';
export {
  DELIVERY_TAG,
  encodeDelivery,
  encodeDeliveryAfter,
  encodeDeliveryHead,
  encodeDeliveryTail,
  decodeDelivery,
  type Delivery,
} from './contract/delivery.js';
export {
  PING,
  PONG,
  RECONNECT,
  parseClientText,
  parseServerText,
  formatSub,
  formatUnsub,
  formatOk,
  formatErr,
  formatSuperseded,
  parseSuperseded,
  LATEST_SUFFIX,
  type SubOp,
  type ClientText,
  type ServerText,
} from './contract/text.js';
export {
  MESH_READY_PREFIX,
  formatMeshReady,
  formatMeshReadyRequest,
  parseMeshReady,
  type MeshReady,
} from './contract/mesh-ready.js';

export * from './mesh/index.js';
export { ALPN, QUIC_RECONNECT_CODE, QuicCloseCode, QuicStreamCode } from './quic/codes.js';
