// What a bridge needs from an external system's connection (NATS, Redis), and the backoff
// both use to reconnect.

export interface BusHandler {
  /** `ownEcho`: the message carries this bridge's own mark (it went out through this bridge). */
  onMessage(subject: string, payload: Uint8Array, ownEcho: boolean): void;
  onUp(): void;
  onDown(reason: string): void;
}

export interface ExternalBus {
  readonly up: boolean;
  /** Connects (retrying with backoff forever, until close) and subscribes to `patterns`. */
  start(patterns: readonly string[], handler: BusHandler): void;
  /** Sends one message; false when the system is down (the caller drops and counts). */
  publish(subject: string, payload: Uint8Array): boolean;
  close(): Promise<void>;
}

/** Exponential backoff with ±20 % jitter, from minMs doubling up to maxMs. */
export class Backoff {
  readonly #minMs: number;
  readonly #maxMs: number;
  #attempt = 0;

  constructor(minMs: number, maxMs: number) {
    this.#minMs = minMs;
    this.#maxMs = Math.max(minMs, maxMs);
  }

  next(): number {
    const base = Math.min(this.#maxMs, this.#minMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
