// Per-connection byte rates of a token (contract §11.7: `ingress_kb_per_sec` for publish
// frames, `egress_kb_per_sec` for delivery frames). A token bucket refilled at the rate and
// holding at least one maximum frame, so a 64 KiB message still passes an 8 KB/s limit: a frame
// is admitted when the bucket holds the frame, or is full, and then costs its whole size (the
// bucket may go into debt, which the refill pays back before the next frame passes). Over the
// limit the caller drops; nothing here waits.

/** About one maximum frame: 64 KiB payload plus names and framing (contract §11.7: "about 66 KB"). */
export const MAX_FRAME_BURST_BYTES = 66 * 1024;

export class ByteRateLimiter {
  readonly bytesPerSec: number;
  readonly burstBytes: number;
  #tokens: number;
  #lastMs: number;

  constructor(bytesPerSec: number, nowMs: number, burstBytes = Math.max(bytesPerSec, MAX_FRAME_BURST_BYTES)) {
    this.bytesPerSec = bytesPerSec;
    this.burstBytes = burstBytes;
    this.#tokens = burstBytes;
    this.#lastMs = nowMs;
  }

  /** Takes `bytes` if the bucket holds them (or is full); false means drop this frame. */
  admit(bytes: number, nowMs: number): boolean {
    const elapsed = nowMs - this.#lastMs;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burstBytes, this.#tokens + (elapsed * this.bytesPerSec) / 1000);
      this.#lastMs = nowMs;
    }
    if (this.#tokens < Math.min(bytes, this.burstBytes)) return false;
    this.#tokens -= bytes;
    return true;
  }
}

/** Lets one notice through per interval (one ERR:rate_limited per second, contract §11.7). */
export class NoticeGate {
  readonly #intervalMs: number;
  #nextMs = -Infinity;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  open(nowMs: number): boolean {
    if (nowMs < this.#nextMs) return false;
    this.#nextMs = nowMs + this.#intervalMs;
    return true;
  }
}
