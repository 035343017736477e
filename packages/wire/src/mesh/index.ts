// Mesh (relay-to-relay) frames, spec/protocol.md §8.
export {
  MeshFrameType,
  MESH_MAX_FRAME_PAYLOAD,
  MAX_RELAY_ID,
  isRelayId,
  isKnownMeshFrameType,
  createMeshDecoder,
  encodeMeshFrame,
} from './frame.js';
export { encodeProbe, decodeProbe, type ProbeFrame } from './probe.js';
export {
  encodeHello,
  decodeHello,
  encodeRoute,
  decodeRoute,
  encodeInterest,
  decodeInterest,
  encodePeers,
  decodePeers,
  encodeInterestAck,
  decodeInterestAck,
  type HelloFrame,
  type InterestFrame,
  type InterestAckFrame,
  type PeerEntry,
} from './control.js';
export { FWD_ID_BYTES, FwdFlags, encodeFwd, decodeFwd, type FwdFrame } from './fwd.js';
export { encodePresence, decodePresence, type PresenceFrame, type PresenceChange, type PresenceMember } from './presence.js';
