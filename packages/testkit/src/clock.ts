// The fake clock for pure-module tests, SDK tests and the simulator; the Clock interface and the
// real clock are @fastpubsub/core's.
import type { Clock, TimerHandle } from '@fastpubsub/core';

export { systemClock, type Clock, type TimerHandle } from '@fastpubsub/core';

interface FakeTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
  /** For intervals: the period; undefined for one-shot timers. */
  every: number | undefined;
}

/**
 * A manual clock. Nothing happens until `advance(ms)`: it moves time forward and runs every
 * timer that falls due, in time order (ties in scheduling order), with `now()` equal to the
 * timer's due time while it runs. Timers scheduled from callbacks run within the same
 * advance if they fall due before its end.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();
  /** Min-heap by (at, seq); entries of cleared or rescheduled timers are skipped lazily. */
  private readonly heap: { at: number; seq: number; id: number }[] = [];

  readonly #epochMs: number;

  /** `epochMs`: the wall-clock time at `startMs` (wallNow() advances with now()). */
  constructor(startMs = 0, epochMs = 1_700_000_000_000) {
    this.current = startMs;
    this.#epochMs = epochMs - startMs;
  }

  now(): number {
    return this.current;
  }

  wallNow(): number {
    return this.#epochMs + this.current;
  }

  setTimeout(fn: () => void, ms: number): number {
    return this.add(fn, ms, undefined);
  }

  /** Repeats every `ms` (minimum 1 ms) until cleared. */
  setInterval(fn: () => void, ms: number): number {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  clearInterval(handle: TimerHandle): void {
    this.clearTimeout(handle);
  }

  /** Number of scheduled timers. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running due timers. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    this.advanceTo(this.current + ms);
  }

  /** Moves time forward to the absolute time `t` (no-op if `t` is in the past). */
  advanceTo(t: number): void {
    const end = Math.max(t, this.current);
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.at > end) break;
      this.current = Math.max(this.current, next.at);
      if (next.every === undefined) {
        this.timers.delete(next.id);
      } else {
        next.at += next.every;
        next.seq = this.seq++;
        this.push(next);
      }
      next.fn();
    }
    this.current = end;
  }

  /** Runs timers until none is left (intervals excepted: throws after `limit` runs). */
  runAll(limit = 100_000): void {
    for (let i = 0; i < limit; i++) {
      const next = this.earliest();
      if (next === undefined) return;
      this.advanceTo(next.at);
    }
    throw new Error(`FakeClock.runAll: still ${this.timers.size} timers after ${limit} steps`);
  }

  private add(fn: () => void, ms: number, every: number | undefined): number {
    const id = this.nextId++;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: FakeTimer = { id, at: this.current + delay, seq: this.seq++, fn, every };
    this.timers.set(id, timer);
    this.push(timer);
    return id;
  }

  private earliest(): FakeTimer | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) return undefined;
      const t = this.timers.get(top.id);
      if (t !== undefined && t.at === top.at && t.seq === top.seq) return t;
      this.pop(); // stale: cleared or rescheduled
    }
  }

  private push(t: FakeTimer): void {
    const h = this.heap;
    h.push({ at: t.at, seq: t.seq, id: t.id });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
