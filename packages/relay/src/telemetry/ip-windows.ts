// Events per client address over a fixed window (connections opened, failed authentications),
// in bounded memory: at most `maxAddresses` addresses; when full, expired windows are swept and,
// if none expired, a new address is not tracked (counted in `untracked`).

export class IpWindows {
  readonly #windows = new Map<string, { startMs: number; count: number }>();
  readonly #windowMs: number;
  readonly #maxAddresses: number;
  untracked = 0;

  constructor(windowMs: number, maxAddresses: number) {
    this.#windowMs = windowMs;
    this.#maxAddresses = maxAddresses;
  }

  /** Counts one event from `ip`; returns the count in its current window. */
  add(ip: string, nowMs: number): number {
    let w = this.#windows.get(ip);
    if (w !== undefined && nowMs - w.startMs >= this.#windowMs) w = undefined;
    if (w === undefined) {
      if (!this.#windows.has(ip) && this.#windows.size >= this.#maxAddresses) this.sweep(nowMs);
      if (!this.#windows.has(ip) && this.#windows.size >= this.#maxAddresses) {
        this.untracked++;
        return 0;
      }
      w = { startMs: nowMs, count: 0 };
      this.#windows.set(ip, w);
    }
    return ++w.count;
  }

  count(ip: string, nowMs: number): number {
    const w = this.#windows.get(ip);
    return w === undefined || nowMs - w.startMs >= this.#windowMs ? 0 : w.count;
  }

  /** Addresses whose count in their current window is at least `threshold`. */
  atLeast(threshold: number, nowMs: number): number {
    let n = 0;
    for (const w of this.#windows.values()) if (nowMs - w.startMs < this.#windowMs && w.count >= threshold) n++;
    return n;
  }

  sweep(nowMs: number): void {
    for (const [ip, w] of this.#windows) if (nowMs - w.startMs >= this.#windowMs) this.#windows.delete(ip);
  }
}
