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
  // Counters live in parallel typed arrays, so the eviction scan is a tight loop over numbers.
  readonly #index = new Map<K, number>();
  readonly #keys: K[] = [];
  readonly #counts: Float64Array;
  readonly #bytes: Float64Array;
  readonly #errors: Float64Array;
  #total = 0;
  #totalBytes = 0;
  /** A lower bound of the smallest count (exact after a full scan; counts only grow). */
  #minCount = 0;
  /** Where the search for a slot holding #minCount resumes. */
  #cursor = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`space-saving capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#counts = new Float64Array(capacity);
    this.#bytes = new Float64Array(capacity);
    this.#errors = new Float64Array(capacity);
  }

  record(key: K, weight = 1, bytes = 0): void {
    this.#total += weight;
    this.#totalBytes += bytes;
    let slot = this.#index.get(key);
    if (slot !== undefined) {
      this.#counts[slot]! += weight;
      this.#bytes[slot]! += bytes;
      return;
    }
    let inherited = 0;
    if (this.#keys.length < this.capacity) {
      slot = this.#keys.length;
      this.#keys.push(key);
    } else {
      slot = this.#minSlot();
      inherited = this.#counts[slot]!;
      this.#index.delete(this.#keys[slot]!);
      this.#keys[slot] = key;
    }
    this.#index.set(key, slot);
    this.#counts[slot] = inherited + weight;
    this.#bytes[slot] = bytes;
    this.#errors[slot] = inherited;
  }

  /**
   * A slot holding the smallest count. Counts only grow, so a slot still at the last known
   * minimum is a minimum: found by resuming a round-robin search (O(1) amortised when many
   * counters tie, as they do under a flood of distinct keys); a full round without one means the
   * minimum grew, and one scan finds it.
   */
  #minSlot(): number {
    const counts = this.#counts;
    const n = counts.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#cursor + k) % n;
      if (counts[i] === this.#minCount) {
        this.#cursor = (i + 1) % n;
        return i;
      }
    }
    let slot = 0;
    for (let i = 1; i < n; i++) if (counts[i]! < counts[slot]!) slot = i;
    this.#minCount = counts[slot]!;
    this.#cursor = (slot + 1) % n;
    return slot;
  }

  /** Total weight recorded (exact). */
  get total(): number {
    return this.#total;
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  get size(): number {
    return this.#keys.length;
  }

  /** The `n` heaviest keys, heaviest first. */
  top(n: number): HeavyHitter<K>[] {
    return this.#keys
      .map((key, i) => ({ key, count: this.#counts[i]!, bytes: this.#bytes[i]!, error: this.#errors[i]! }))
      .sort((a, b) => b.count - a.count || b.bytes - a.bytes)
      .slice(0, Math.max(0, n));
  }
}
