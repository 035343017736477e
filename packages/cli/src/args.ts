// Argument handling shared by the subcommands: one usage-error type (exit code 2; flag parsing
// itself is parseFlags from @fastpubsub/core) and the environment fallbacks every command documents.

/** A mistake in how the command was called; commands print it with their usage and exit 2. */
export class UsageError extends Error {}

/** The flag's value, else the environment variable's when set and non-empty. */
export function flagOrEnv(flag: string | undefined, envName: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? (env[envName] || undefined);
}

/** The flag's value, else the environment variable's; missing both is a UsageError. */
export function requiredFlagOrEnv(flag: string | undefined, flagName: string, envName: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = flagOrEnv(flag, envName, env);
  if (value === undefined) throw new UsageError(`missing --${flagName} (or ${envName})`);
  return value;
}

/** A positive number (or integer) flag, undefined when absent. */
export function positiveNumber(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${value}'`);
  }
  return n;
}
