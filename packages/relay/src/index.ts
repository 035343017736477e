// @fastpubsub/relay: a FastPubSub relay (PoP). startRelay is the entry point; the parts are
// exported for the CLI, the benchmarks and the simulator.
export { startRelay, type Relay, type RelayDeps } from './node.js';
export { RelayMetrics } from './metrics.js';
export type { RelayConfig, RelayConfigInput } from '@fastpubsub/core';
