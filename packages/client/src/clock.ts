// The SDK's view of time. Structurally the same as @fastpubsub/core's Clock (the SDK does not
// depend on core), so @fastpubsub/testkit's FakeClock drives the SDK's timers in tests.
export interface Clock {
  /** Monotonic milliseconds (timeouts, round trips). */
  now(): number;
  /** Wall-clock milliseconds since the epoch (token expiry). */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
