// Log-linear latency histogram (HDR-style): fixed memory, O(1) record, mergeable, about 1 %
// relative error on every percentile. Values are nanoseconds; min and max are kept exactly.

const MIN_NS = 1_000; // 1 µs: everything below lands in bucket 0
const GROWTH = 1.01; // 1 % wide buckets
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(1e12 / MIN_NS) / LOG_GROWTH) + 1; // up to 1000 s

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  record(ns: number): void {
    const v = ns > 0 ? ns : 0;
    let i = v <= MIN_NS ? 0 : Math.ceil(Math.log(v / MIN_NS) / LOG_GROWTH);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    this.count += other.count;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** The value at quantile q (0..1), in nanoseconds: the upper bound of its bucket, clamped to [min, max]. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) {
        const upper = i === 0 ? MIN_NS : MIN_NS * Math.pow(GROWTH, i);
        return Math.min(Math.max(upper, this.min), this.max);
      }
    }
    return this.max;
  }
}
