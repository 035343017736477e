// Time as a parameter. Code with timers or timestamps takes a Clock from the composition root
// (or a test), so the same code runs on real time in production and on a fake clock
// (@fastpubsub/testkit FakeClock) in tests and the simulator.

/** Opaque timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds on a monotonic scale (timeouts, round trips, routing); not wall-clock time. */
  now(): number;
  /** Wall-clock milliseconds since the epoch (token expiry, record timestamps). */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `performance.now()`, `Date.now()` and the host's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
