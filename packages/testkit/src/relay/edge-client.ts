// The edge-agnostic test client: what the edge conformance suite needs from a connection, with
// one implementation per edge (WebSocket contract v0.1, QUIC native frames). A message is
// reported as (tenant, channel, payload, patterns): a WebSocket frame lists every matching
// pattern of the connection; on QUIC each subscription stream delivers with its own pattern,
// so the suite compares the set of (pattern) deliveries per message.
import type { Relay } from './helpers.js';

export type EdgeKind = 'ws' | 'quic' | 'webtransport';

export interface EdgeMessage {
  tenant: string;
  channel: string;
  payload: Buffer;
  patterns: string[];
}

export interface EdgeClient {
  readonly kind: EdgeKind;
  /** SUB; resolves on OK, rejects with an Error whose message starts with the ERR code. */
  subscribe(tenant: string, pattern: string): Promise<void>;
  /** SUB that must be refused; resolves with the ERR code. */
  subscribeRefused(tenant: string, pattern: string): Promise<string>;
  unsubscribe(tenant: string, pattern: string): Promise<void>;
  publish(tenant: string, channel: string, payload: Buffer | string, mode?: 0 | 1 | 2): void;
  /** Sends a publish whose body is malformed in an edge-specific way that keeps framing intact. */
  publishMalformed(kind: 'bad-utf8' | 'bad-mode' | 'wildcard-channel' | 'long-tenant'): void;
  /** The next delivery, merged per message (QUIC: deliveries of one message on several streams). */
  nextMessage(ms?: number): Promise<EdgeMessage>;
  expectNoMessage(ms?: number): Promise<void>;
  /** The next ERR code (WS `ERR:code`, QUIC ERR frame topic). */
  nextError(ms?: number): Promise<string>;
  /** PING → PONG: a barrier for this connection's earlier frames. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface EdgeFactory {
  readonly kind: EdgeKind;
  connect(relay: Relay, token: string): Promise<EdgeClient>;
  /** Resolves with the refusal code (WS: HTTP status as a string; QUIC: ERR code). */
  connectRefused(relay: Relay, token: string): Promise<string>;
}

/**
 * Bounded waits on a client's inbound queues: `next` takes the head of a queue, waiting (up to
 * `ms`) for `notify()`, which the client calls whenever it pushes to any of its queues.
 */
export class QueueWaiter {
  #wake: (() => void) | undefined;

  notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async next<T>(queue: T[], ms: number, what: string): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = queue.shift();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}
