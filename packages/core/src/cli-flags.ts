// Command-line flags for the `fastpubsub` commands: node:util parseArgs with its errors turned
// into one readable line ("unknown option --lisen (did you mean --listen?)") instead of the
// parser's raw text. Shared by the CLI and the control plane's command, which cannot import
// each other.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how a command was called (exit code 2 by convention). */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

/** parseArgs, throwing FlagError with a readable message (and a suggestion) on bad flags. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new FlagError(explainFlagError(err, Object.keys(config.options ?? {})));
  }
}

/** One line for a parseArgs error; `known` are the long option names the command takes. */
export function explainFlagError(err: unknown, known: readonly string[]): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = /Unknown option '([^']+)'/.exec(message)?.[1] ?? message;
    const suggestion = closestFlag(given.replace(/^-+/, '').split('=')[0] ?? '', known);
    return `unknown option ${given}${suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const m = /Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(message);
    if (m !== null) return `option ${m[1]} needs a value`;
    const b = /Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(message);
    if (b !== null) return `option ${b[1]} takes no value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /Unexpected argument '([^']*)'/.exec(message)?.[1];
    if (arg !== undefined) return `unexpected argument '${arg}'`;
  }
  return message;
}

/** The known flag nearest to `given` by edit distance, when near enough to be a typo. */
export function closestFlag(given: string, known: readonly string[]): string | undefined {
  const lower = given.toLowerCase();
  // An abbreviation (--quic for --quic-listen) or a flag with extra letters (--listenn).
  const extended = lower.length >= 2 ? known.find((name) => name.startsWith(lower) || lower.startsWith(name)) : undefined;
  if (extended !== undefined) return extended;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = editDistance(lower, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(lower.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
