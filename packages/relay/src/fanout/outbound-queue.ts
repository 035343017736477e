// Per-subscriber bounded FIFO of encoded frames, accounted in bytes. Pure: the edge pushes,
// shifts when its socket drains, and acts on the result (a full 'disconnect' queue closes the
// connection). Fan-out writes the same encoded bytes to every subscriber, so chunks are held by
// reference, never copied.
//
// "Latest matters" deliveries carry a key (their channel): a push with a key that is still
// queued replaces that chunk in place instead of queueing behind it, so the queue holds at most
// the newest message per key. Those replacements are supersessions, counted apart from drops.

export type OverflowPolicy = 'drop-oldest' | 'disconnect';

export interface OutboundQueueOptions {
  /** Byte budget of queued chunks; must be > 0. */
  maxBytes: number;
  policy: OverflowPolicy;
}

export type PushResult =
  | { readonly ok: true; readonly droppedCount: number; readonly droppedBytes: number; readonly superseded?: true }
  | { readonly ok: false; readonly reason: 'overflow' };

export interface QueuedChunk {
  readonly chunk: Uint8Array;
  readonly enqueuedAtMs: number;
  /** The supersession key it was pushed with (latest mode), if any. */
  readonly key?: string | undefined;
}

/** The queue's own slot: a superseding push swaps chunk and time in place. */
interface Slot {
  chunk: Uint8Array;
  enqueuedAtMs: number;
  key: string | undefined;
}

const OK_NO_DROP: PushResult = Object.freeze({ ok: true, droppedCount: 0, droppedBytes: 0 });
const OK_SUPERSEDED: PushResult = Object.freeze({ ok: true, droppedCount: 0, droppedBytes: 0, superseded: true });
const OVERFLOW: PushResult = Object.freeze({ ok: false, reason: 'overflow' });

/**
 * Ring buffer (power-of-two capacity, grows by doubling) so push and shift are O(1).
 *
 * 'drop-oldest' with a single chunk larger than maxBytes: everything queued is dropped and the
 * new chunk is kept alone (the queue then holds more than maxBytes until it is shifted). The
 * newest data is what a drop-oldest subscriber wants, and frames are bounded by the 64 KiB
 * payload limit, far below any sane budget, so this only matters for misconfiguration.
 */
export class OutboundQueue {
  readonly maxBytes: number;
  readonly policy: OverflowPolicy;
  #items: Array<Slot | undefined> = new Array<Slot | undefined>(16);
  /** Queued slots by supersession key (only keyed pushes are here). */
  readonly #byKey = new Map<string, Slot>();
  #mask = 15;
  #head = 0;
  #length = 0;
  #bytes = 0;
  #droppedCount = 0;
  #droppedBytes = 0;
  #supersededCount = 0;

  constructor(options: OutboundQueueOptions) {
    if (!(options.maxBytes > 0) || !Number.isFinite(options.maxBytes)) {
      throw new RangeError(`OutboundQueue maxBytes must be a positive finite number, got ${options.maxBytes}`);
    }
    this.maxBytes = options.maxBytes;
    this.policy = options.policy;
  }

  get length(): number {
    return this.#length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Chunks dropped by 'drop-oldest' since construction (clear() does not count as dropping). */
  get droppedCount(): number {
    return this.#droppedCount;
  }

  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  /** Chunks replaced by a newer one with the same key since construction. */
  get supersededCount(): number {
    return this.#supersededCount;
  }

  /**
   * Queues a chunk. With a `key` that is still queued, the queued chunk is replaced in place
   * (it keeps its turn, carries the new bytes and time) and the result says `superseded`.
   */
  push(chunk: Uint8Array, enqueuedAtMs: number, key?: string): PushResult {
    if (key !== undefined) {
      const slot = this.#byKey.get(key);
      if (slot !== undefined && this.#bytes - slot.chunk.byteLength + chunk.byteLength <= this.maxBytes) {
        this.#bytes += chunk.byteLength - slot.chunk.byteLength;
        slot.chunk = chunk;
        slot.enqueuedAtMs = enqueuedAtMs;
        this.#supersededCount++;
        return OK_SUPERSEDED;
      }
    }
    const size = chunk.byteLength;
    let droppedCount = 0;
    let droppedBytes = 0;
    if (this.#bytes + size > this.maxBytes) {
      if (this.policy === 'disconnect') return OVERFLOW;
      while (this.#length > 0 && this.#bytes + size > this.maxBytes) {
        const old = this.shift() as QueuedChunk;
        droppedCount++;
        droppedBytes += old.chunk.byteLength;
      }
      this.#droppedCount += droppedCount;
      this.#droppedBytes += droppedBytes;
    }
    if (this.#length === this.#items.length) this.#grow();
    const slot: Slot = { chunk, enqueuedAtMs, key };
    this.#items[(this.#head + this.#length) & this.#mask] = slot;
    if (key !== undefined) this.#byKey.set(key, slot);
    this.#length++;
    this.#bytes += size;
    return droppedCount === 0 ? OK_NO_DROP : { ok: true, droppedCount, droppedBytes };
  }

  peek(): QueuedChunk | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  shift(): QueuedChunk | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head] as Slot;
    this.#items[this.#head] = undefined; // let the chunk be collected
    if (item.key !== undefined && this.#byKey.get(item.key) === item) this.#byKey.delete(item.key);
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    this.#bytes -= item.chunk.byteLength;
    return item;
  }

  clear(): void {
    this.#items = new Array<Slot | undefined>(16);
    this.#byKey.clear();
    this.#mask = 15;
    this.#head = 0;
    this.#length = 0;
    this.#bytes = 0;
  }

  #grow(): void {
    const old = this.#items;
    const next = new Array<Slot | undefined>(old.length * 2);
    for (let i = 0; i < this.#length; i++) next[i] = old[(this.#head + i) & this.#mask];
    this.#items = next;
    this.#mask = next.length - 1;
    this.#head = 0;
  }
}
