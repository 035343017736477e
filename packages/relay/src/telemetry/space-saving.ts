// The space-saving heavy-hitters sketch (Metwally, Agrawal, El Abbadi 2005): at most `capacity`
// counters; a key not yet counted takes over the smallest counter, inheriting its count as its
// possible overestimate. Every key whose true count exceeds total / capacity is guaranteed to be
// held, so the busiest channels (or publishers) of an interval are found in bounded memory
// however many distinct keys pass through. Eviction scans for the minimum: O(capacity), cheap
// for the small capacities used here, and only paid by keys that are not already counted.

export interface HeavyHitter<K> {
  key: K;
  /** Estimated weight (never below the truth; at most `error` above it). */
  count: number;
  /** Messages' bytes, summed while the key held its counter (a lower bound). */
  bytes: number;
  /** Maximum overestimate of `count`. */
  error: number;
}

export class SpaceSaving<K> {
  readonly capacity: number;
  readonly #counters = new Map<K, HeavyHitter<K>>();
  #total = 0;
  #totalBytes = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`space-saving capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  record(key: K, weight = 1, bytes = 0): void {
    this.#total += weight;
    this.#totalBytes += bytes;
    const held = this.#counters.get(key);
    if (held !== undefined) {
      held.count += weight;
      held.bytes += bytes;
      return;
    }
    if (this.#counters.size < this.capacity) {
      this.#counters.set(key, { key, count: weight, bytes, error: 0 });
      return;
    }
    let min: HeavyHitter<K> | undefined;
    for (const c of this.#counters.values()) if (min === undefined || c.count < min.count) min = c;
    if (min === undefined) return;
    this.#counters.delete(min.key);
    this.#counters.set(key, { key, count: min.count + weight, bytes, error: min.count });
  }

  /** Total weight recorded (exact). */
  get total(): number {
    return this.#total;
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  get size(): number {
    return this.#counters.size;
  }

  /** The `n` heaviest keys, heaviest first. */
  top(n: number): HeavyHitter<K>[] {
    return [...this.#counters.values()].sort((a, b) => b.count - a.count || b.bytes - a.bytes).slice(0, Math.max(0, n));
  }
}
