// A token bucket with an injected clock: `rate` tokens per second, at most `burst` held.
// Refill is computed lazily from the elapsed time on each take, so an idle bucket costs nothing.

export class TokenBucket {
  rate: number;
  burst: number;
  #tokens: number;
  #lastMs: number;

  constructor(rate: number, burst: number, nowMs: number) {
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#lastMs = nowMs;
  }

  /** Takes `n` tokens if they are all there; otherwise takes none and returns false. */
  take(n: number, nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** Whether `n` tokens are available now, without taking them. */
  has(n: number, nowMs: number): boolean {
    this.#refill(nowMs);
    return this.#tokens >= n;
  }

  /** True when the bucket has refilled completely: it holds no information and may be dropped. */
  isFull(nowMs: number): boolean {
    this.#refill(nowMs);
    return this.#tokens >= this.burst;
  }

  #refill(nowMs: number): void {
    const elapsed = nowMs - this.#lastMs;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
      this.#lastMs = nowMs;
    }
  }
}
