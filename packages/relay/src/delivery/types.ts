// The delivery core's vocabulary: what a publish is once an edge (or the mesh) has accepted it,
// and what a sink is. Both edges and the mesh speak these types; nothing here does I/O.
import type { PublishMode } from '@fastpubsub/wire';
import type { EdgeName } from '../metrics.js';
import type { Encodings } from './encodings.js';

/** Where a publish entered this relay. 'mesh' publishes are never forwarded again. */
export type Origin = 'ws' | 'quic' | 'http' | 'mesh';

/** One accepted, validated and authorised publish. */
export interface DispatchMessage {
  readonly tenant: string;
  readonly channel: string;
  /** May be a view into a receive buffer: sinks encode (copy) it synchronously in deliver(). */
  readonly payload: Uint8Array;
  readonly mode: PublishMode;
  /** performance.now() when its frame arrived (publish→write latency). */
  readonly arrivedAtMs: number;
  readonly origin: Origin;
}

/**
 * A receiver in the subscription index. A WebSocket connection is one sink (one frame per
 * message listing every matching pattern, contract §6); a QUIC subscription stream is one sink.
 */
export interface Sink {
  /** Deliver-one picks uniformly over these (contract §10.7: connections, not subscriptions). */
  readonly connection: object;
  /** Which edge's counters a direct write counts in. */
  readonly edge: EdgeName;
  /**
   * Hands one message to this sink; `patterns` are its matching patterns (each once, as
   * subscribed). Encode through `encodings` so every sink with the same (format, patterns)
   * shares one buffer. Returns the bytes written to the transport now (counted by the
   * dispatcher, with one latency observation per publish); 0 if it was queued, dropped or
   * will be written later — the sink then accounts it itself when it is written.
   */
  deliver(msg: DispatchMessage, patterns: readonly string[], encodings: Encodings): number;
}
