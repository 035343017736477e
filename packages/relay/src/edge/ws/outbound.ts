// The write side of one client connection. Frames go straight to the socket while it keeps up
// (socket.writableLength under a high-water mark) and into a bounded OutboundQueue once it does
// not; the queue is flushed from the socket's 'drain'. Writes within one tick are corked and
// uncorked together by a shared CorkBatcher, so a burst of deliveries becomes one syscall per
// socket (STYLE.md #3–#5). Nothing here ever waits on a socket, so a stalled subscriber costs
// the others nothing but the push into its own queue.
import type { Duplex } from 'node:stream';
import { OutboundQueue, type OverflowPolicy } from '../../fanout/index.js';

/** Marks a queued control frame (OK, ERR, PONG…), which has no publish time to measure. */
export const CONTROL_FRAME = -1;

export type SendResult = 'written' | 'queued' | 'superseded' | 'overflow';

export interface OutboundHooks {
  /** A queued frame reached the socket; `enqueuedAtMs` is CONTROL_FRAME for control frames. */
  onFlushed(bytes: number, enqueuedAtMs: number): void;
  /** drop-oldest discarded older frames to make room. */
  onDropped(count: number): void;
}

/** Uncorks every socket corked during the current tick, once, from a microtask. */
export class CorkBatcher {
  #pending: Outbound[] = [];
  #scheduled = false;

  enlist(out: Outbound): void {
    this.#pending.push(out);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  readonly flush = (): void => {
    this.#scheduled = false;
    const list = this.#pending;
    this.#pending = [];
    for (const out of list) out.uncork();
  };
}

export class Outbound {
  readonly #socket: Duplex;
  readonly #queue: OutboundQueue;
  readonly #highWaterMark: number;
  readonly #batcher: CorkBatcher;
  readonly #hooks: OutboundHooks;
  #corked = false;
  #closed = false;

  constructor(
    socket: Duplex,
    options: { queueBytes: number; policy: OverflowPolicy; highWaterMarkBytes: number },
    batcher: CorkBatcher,
    hooks: OutboundHooks,
  ) {
    this.#socket = socket;
    this.#queue = new OutboundQueue({ maxBytes: options.queueBytes, policy: options.policy });
    // Never below the stream's own mark: only then does queueing imply a write returned false,
    // which is what guarantees the 'drain' that resumes the queue.
    this.#highWaterMark = Math.max(options.highWaterMarkBytes, socket.writableHighWaterMark);
    this.#batcher = batcher;
    this.#hooks = hooks;
    socket.on('drain', this.#onDrain);
  }

  /** Bytes waiting in this connection's own queue (not yet handed to the socket). */
  get queuedBytes(): number {
    return this.#queue.bytes;
  }

  /**
   * Writes now, or queues behind earlier frames so per-connection order holds. 'overflow' means
   * the queue is full under the 'disconnect' policy; the caller closes the connection. With a
   * `latestKey` (latest mode) a queued frame of the same key is replaced: 'superseded'.
   */
  send(frame: Uint8Array, enqueuedAtMs: number, latestKey?: string): SendResult {
    if (this.#closed) return 'written'; // the connection is going away; nothing to account
    if (this.#queue.length === 0 && this.#socket.writableLength < this.#highWaterMark) {
      this.#write(frame);
      return 'written';
    }
    const r = this.#queue.push(frame, enqueuedAtMs, latestKey);
    if (!r.ok) return 'overflow';
    if (r.superseded === true) return 'superseded';
    if (r.droppedCount > 0) this.#hooks.onDropped(r.droppedCount);
    return 'queued';
  }

  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  }

  /** Stops writing and frees the queue; the socket itself is closed by its owner. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.clear();
    this.#socket.off('drain', this.#onDrain);
    this.uncork();
  }

  #write(frame: Uint8Array): void {
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      this.#batcher.enlist(this);
    }
    this.#socket.write(frame);
  }

  readonly #onDrain = (): void => {
    // A queue is only ever non-empty while a write has returned false, so a 'drain' is always
    // coming to resume it; stop again as soon as the socket is back above the mark.
    while (!this.#closed && this.#queue.length > 0 && this.#socket.writableLength < this.#highWaterMark) {
      const item = this.#queue.shift();
      if (item === undefined) break;
      this.#write(item.chunk);
      this.#hooks.onFlushed(item.chunk.byteLength, item.enqueuedAtMs);
    }
  };
}
