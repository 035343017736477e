// PING/PONG on one connection (contract §4): a PING after `delayMs`, a PONG gives the round
// trip, no PONG within `timeoutMs` means the connection is lost.
import { realClock, type Clock } from './clock.js';
import { ClientError } from './errors.js';

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
}

export class Heartbeat {
  readonly #o: HeartbeatOptions;
  readonly #sendPing: () => boolean;
  readonly #onTimeout: (e: ClientError) => void;
  readonly #clock: Clock;
  #sentAt: number | undefined;
  #timer: unknown;

  /** `sendPing` sends a PING, or returns false when the connection is no longer to be pinged. */
  constructor(o: HeartbeatOptions, sendPing: () => boolean, onTimeout: (e: ClientError) => void, clock: Clock = realClock) {
    this.#o = o;
    this.#clock = clock;
    this.#sendPing = sendPing;
    this.#onTimeout = onTimeout;
  }

  /** Sends the next PING after `delayMs` (default: the interval). */
  schedule(delayMs = this.#o.intervalMs): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => {
      this.#sentAt = this.#clock.now();
      if (!this.#sendPing()) {
        this.#sentAt = undefined;
        return;
      }
      // No PONG in time: treat the connection as lost (contract §4: dropped after 10 s).
      this.#timer = this.#clock.setTimeout(() => this.#onTimeout(new ClientError('timeout', `no PONG within ${this.#o.timeoutMs} ms`)), this.#o.timeoutMs);
    }, delayMs);
  }

  /** A PONG arrived: the round trip in ms, or undefined if no PING was outstanding. */
  pong(): number | undefined {
    if (this.#sentAt === undefined) return undefined;
    const rttMs = this.#clock.now() - this.#sentAt;
    this.#sentAt = undefined;
    this.#clock.clearTimeout(this.#timer);
    return rttMs;
  }

  stop(): void {
    this.#clock.clearTimeout(this.#timer);
  }
}
