// How every long-running FastPubSub process (relay, control, dev cluster) stops: the first
// SIGTERM or SIGINT starts a graceful shutdown; a second one means "now" and exits with 130.

export interface StopSignal {
  readonly signal: NodeJS.Signals;
  /** The graceful shutdown is over: a later signal no longer forces an exit. */
  release(): void;
}

/** Resolves on the first SIGTERM or SIGINT; from then until release(), another one exits at once. */
export function waitForStopSignal(): Promise<StopSignal> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', first);
      process.off('SIGINT', first);
      const force = (): void => process.exit(130);
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
      resolve({
        signal,
        release: () => {
          process.off('SIGTERM', force);
          process.off('SIGINT', force);
        },
      });
    };
    process.once('SIGTERM', first);
    process.once('SIGINT', first);
  });
}
