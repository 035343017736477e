// The delivery core's vocabulary: what a publish is once an edge (or the mesh) has accepted it,
// and what a sink is. Both edges and the mesh speak these types; nothing here does I/O.
import type { PublishMode } from '@fastpubsub/wire';
import type { EdgeName } from '../metrics.js';

/**
 * Where a publish entered this relay. 'mesh' publishes are never forwarded again; 'bridge'
 * publishes came in through a NATS or Redis bridge (docs/bridges.md: never sent back out);
 * 'system' is the relay's own network state (telemetry/).
 */
export type Origin = 'ws' | 'quic' | 'http' | 'mqtt' | 'bridge' | 'mesh' | 'system';

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
  /**
   * The mesh message id (16 bytes), when the edge chose it: HTTPS publishes answer with it, and
   * an idempotent publish derives it from (tenant, Idempotency-Key). Otherwise the mesh picks one.
   */
  readonly id?: Uint8Array;
  /** The id is derived from an idempotency key: every PoP drops a repeat within 60 s. */
  readonly idempotent?: boolean;
  /** With origin 'bridge': the bridge it came in through, which never sends it back out. */
  readonly bridgeId?: string;
  /** The publishing token's id (client edges), for the console's top publishers. */
  readonly publisher?: string;
  /**
   * The tenant's config makes this channel latest-mode by default (docs/latest-mode.md): every
   * queue on its way (subscriber queues, mesh link queues) keeps only its newest message.
   */
  readonly latest?: boolean;
}

/**
 * Per-publish memo of encoded frames (implemented by Encodings): a frame is built once per
 * distinct (format, key) and the same bytes are written to every sink asking for it.
 */
export interface EncodingCache {
  readonly msg: DispatchMessage;
  /** The frame for (format, key), built by `build` the first time it is asked for. */
  get(format: string, key: string, build: (msg: DispatchMessage) => Uint8Array): Uint8Array;
  /** The frame already built for (format, key), if any (for callers that build without a closure). */
  find(format: string, key: string): Uint8Array | undefined;
  /** Stores the frame built for (format, key) and returns it. */
  put(format: string, key: string, frame: Uint8Array): Uint8Array;
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
  deliver(msg: DispatchMessage, patterns: readonly string[], encodings: EncodingCache): number;
}
