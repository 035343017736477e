// @fastpubsub/testkit/relay: helpers for tests that run real relays: start one (TestEnv), speak
// contract v0.1 over a real WebSocket (Client, codec) and drive either edge through one
// interface (EdgeClient: wsEdge, quicEdge). Shared by the relay's and the control plane's tests.
export * from './helpers.js';
export * from './codec.js';
export * from './edge-client.js';
export * from './ws-edge-client.js';
export * from './quic-edge-client.js';
// Real PoPs and the PoP's ticket verifier, for the tests and benchmarks of packages that must
// not depend on the relay themselves (the control plane's).
export { startRelay, createMeshPki, SignedTicketState } from '@fastpubsub/relay';
export * from './mesh.js';
