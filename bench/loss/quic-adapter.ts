// FastPubSub's QUIC edge as a benchmark broker. Placeholder until the relay's QUIC edge lands:
// the runner reports the QUIC row as not measured.
import type { RunningBroker } from '../fanout/adapter.js';

export class QuicEdgeUnavailable extends Error {}

export function startQuicEdge(_relay: RunningBroker): Promise<RunningBroker> {
  return Promise.reject(new QuicEdgeUnavailable('the relay has no QUIC edge yet (packages/relay/src/edge/quic)'));
}
