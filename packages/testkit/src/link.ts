// One direction of an emulated link: loss, rate limit with a bounded queue, delay ± jitter,
// and in-order delivery unless reordering is allowed. Socket-free; driven by a Clock.

import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { SeededRandom } from './prng.js';

/** Shape of one direction of a link. All times in milliseconds. */
export interface LinkParams {
  /** Base one-way delay added to every packet (ms). */
  delayMs: number;
  /** Jitter (ms): for 'uniform', each packet gets delay + U(−jitterMs, +jitterMs); for 'normal',
   *  delay + N(0, jitterMs²), i.e. jitterMs is the standard deviation. Clamped to ≥ 0 overall. */
  jitterMs: number;
  jitter: 'uniform' | 'normal';
  /** Probability in [0, 1] that a packet is dropped (independent per packet). */
  lossRate: number;
  /** Bottleneck rate in bytes/s; 0 = unlimited. Packets are serialised one after another. */
  rateBytesPerSec: number;
  /** Bytes that may wait for the rate limiter; a packet that does not fit is tail-dropped. */
  queueBytes: number;
  /** Allow jitter to reorder packets. When false (default) each packet's delivery time is
   *  clamped to be ≥ the previous packet's, so order is preserved. */
  reorder: boolean;
  /** Link cut: drop every packet, including those already in flight when it goes down. */
  down: boolean;
}

export type LinkUpdate = Partial<LinkParams>;

export const DEFAULT_LINK: Readonly<LinkParams> = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  jitter: 'uniform',
  lossRate: 0,
  rateBytesPerSec: 0,
  queueBytes: 256 * 1024,
  reorder: false,
  down: false,
});

/** Counters of one direction. `forwarded`/`bytes` count delivered packets. */
export interface LinkStats {
  forwarded: number;
  bytes: number;
  /** All drops: sum of the three below. */
  dropped: number;
  droppedLoss: number;
  droppedQueue: number;
  droppedDown: number;
  /** Packets scheduled but not yet delivered. */
  inFlight: number;
}

/** Merges and validates; throws RangeError naming the bad field. */
export function resolveLinkParams(base: Readonly<LinkParams>, update: LinkUpdate = {}): LinkParams {
  const p: LinkParams = { ...base };
  for (const [k, v] of Object.entries(update)) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_LINK)) throw new RangeError(`link: unknown parameter '${k}'`);
    (p as unknown as Record<string, unknown>)[k] = v;
  }
  const nonNegative = ['delayMs', 'jitterMs', 'rateBytesPerSec', 'queueBytes'] as const;
  for (const k of nonNegative) {
    if (typeof p[k] !== 'number' || !Number.isFinite(p[k]) || p[k] < 0) {
      throw new RangeError(`link: ${k} must be a finite number >= 0, got ${String(p[k])}`);
    }
  }
  if (typeof p.lossRate !== 'number' || !(p.lossRate >= 0 && p.lossRate <= 1)) {
    throw new RangeError(`link: lossRate must be in [0, 1], got ${String(p.lossRate)}`);
  }
  if (p.jitter !== 'uniform' && p.jitter !== 'normal') {
    throw new RangeError(`link: jitter must be 'uniform' or 'normal', got ${String(p.jitter)}`);
  }
  if (typeof p.reorder !== 'boolean') throw new RangeError('link: reorder must be a boolean');
  if (typeof p.down !== 'boolean') throw new RangeError('link: down must be a boolean');
  return p;
}

interface Pending {
  at: number;
  seq: number;
  bytes: number;
  deliver: () => void;
}

/**
 * One direction of a link. `submit(bytes, deliver)` either drops the packet (returns false) or
 * schedules `deliver` at its emulated arrival time. One timer per direction, not per packet.
 */
export class LinkDirection {
  private p: LinkParams;
  private readonly random: SeededRandom;
  private readonly clock: Clock;
  /** Sorted by (at, seq); `head` is the index of the next packet to deliver. */
  private queue: Pending[] = [];
  private head = 0;
  private seq = 0;
  /** Undefined when no timer is armed (TimerHandle is opaque). */
  private timer: TimerHandle;
  private timerAt = Infinity;
  private lastArrival = -Infinity;
  private linkFreeAt = -Infinity;
  private closed = false;
  private readonly counters = { forwarded: 0, bytes: 0, droppedLoss: 0, droppedQueue: 0, droppedDown: 0 };

  constructor(params: LinkUpdate = {}, seed = 1, clock: Clock = systemClock) {
    this.p = resolveLinkParams(DEFAULT_LINK, params);
    this.random = new SeededRandom(seed);
    this.clock = clock;
  }

  get params(): LinkParams {
    return { ...this.p };
  }

  /** Changes parameters now; packets already in flight keep their schedule (unless `down`). */
  set(update: LinkUpdate): void {
    this.p = resolveLinkParams(this.p, update);
    if (this.p.down) this.dropInFlight();
  }

  stats(): LinkStats {
    const c = this.counters;
    return {
      ...c,
      dropped: c.droppedLoss + c.droppedQueue + c.droppedDown,
      inFlight: this.queue.length - this.head,
    };
  }

  /** Offers a packet of `bytes` bytes. Returns false if it was dropped. */
  submit(bytes: number, deliver: () => void): boolean {
    if (this.closed) return false;
    const p = this.p;
    if (p.down) {
      this.counters.droppedDown++;
      return false;
    }
    const now = this.clock.now();
    let departure = now;
    if (p.rateBytesPerSec > 0) {
      const start = Math.max(now, this.linkFreeAt);
      const backlogBytes = ((start - now) * p.rateBytesPerSec) / 1000;
      if (backlogBytes + bytes > p.queueBytes && start > now) {
        this.counters.droppedQueue++;
        return false;
      }
      departure = start + (bytes * 1000) / p.rateBytesPerSec;
      this.linkFreeAt = departure;
    }
    if (p.lossRate > 0 && this.random.next() < p.lossRate) {
      this.counters.droppedLoss++;
      return false;
    }
    let delay = p.delayMs;
    if (p.jitterMs > 0) {
      delay += p.jitter === 'uniform' ? (2 * this.random.next() - 1) * p.jitterMs : this.random.normal() * p.jitterMs;
    }
    let at = departure + Math.max(0, delay);
    if (!p.reorder) at = Math.max(at, this.lastArrival);
    this.lastArrival = Math.max(this.lastArrival, at);
    this.insert({ at, seq: this.seq++, bytes, deliver });
    this.arm();
    return true;
  }

  /** Cancels everything in flight (not counted as drops) and refuses further packets. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.disarm();
  }

  private insert(item: Pending): void {
    const q = this.queue;
    const last = q[q.length - 1];
    if (last === undefined || last.at <= item.at) {
      q.push(item);
      return;
    }
    let lo = this.head;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (q[mid]!.at <= item.at) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, item);
  }

  private arm(): void {
    const next = this.queue[this.head];
    if (next === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== undefined && this.timerAt <= next.at) return;
    this.disarm();
    this.timerAt = next.at;
    // Round up so a packet is never delivered before its time (timers may fire early by < 1 ms).
    const wait = Math.max(0, Math.ceil(next.at - this.clock.now()));
    this.timer = this.clock.setTimeout(() => this.fire(), wait);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    const q = this.queue;
    while (this.head < q.length && q[this.head]!.at <= now) {
      const item = q[this.head]!;
      this.head++;
      this.counters.forwarded++;
      this.counters.bytes += item.bytes;
      item.deliver();
      if (this.closed) return;
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }

  private dropInFlight(): void {
    this.counters.droppedDown += this.queue.length - this.head;
    this.queue = [];
    this.head = 0;
    this.lastArrival = -Infinity;
    this.linkFreeAt = -Infinity;
    this.disarm();
  }
}
