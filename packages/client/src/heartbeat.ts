// PING/PONG on one connection (contract §4): a PING after `delayMs`, a PONG gives the round
// trip, no PONG within `timeoutMs` means the connection is lost.
import { ClientError } from './errors.js';

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
}

export class Heartbeat {
  readonly #o: HeartbeatOptions;
  readonly #sendPing: () => boolean;
  readonly #onTimeout: (e: ClientError) => void;
  #sentAt: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `sendPing` sends a PING, or returns false when the connection is no longer to be pinged. */
  constructor(o: HeartbeatOptions, sendPing: () => boolean, onTimeout: (e: ClientError) => void) {
    this.#o = o;
    this.#sendPing = sendPing;
    this.#onTimeout = onTimeout;
  }

  /** Sends the next PING after `delayMs` (default: the interval). */
  schedule(delayMs = this.#o.intervalMs): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#sentAt = performance.now();
      if (!this.#sendPing()) {
        this.#sentAt = undefined;
        return;
      }
      // No PONG in time: treat the connection as lost (contract §4: dropped after 10 s).
      this.#timer = setTimeout(() => this.#onTimeout(new ClientError('timeout', `no PONG within ${this.#o.timeoutMs} ms`)), this.#o.timeoutMs);
    }, delayMs);
  }

  /** A PONG arrived: the round trip in ms, or undefined if no PING was outstanding. */
  pong(): number | undefined {
    if (this.#sentAt === undefined) return undefined;
    const rttMs = performance.now() - this.#sentAt;
    this.#sentAt = undefined;
    clearTimeout(this.#timer);
    return rttMs;
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
