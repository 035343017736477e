/** One `fastpubsub` subcommand; each module under ./commands exports `command: Command`. */
export interface Command {
  /** One line for the top-level help. */
  summary: string;
  /** Runs the command; resolves with the process exit code. */
  run(argv: string[]): Promise<number>;
}
