// The process's open-file limit (RLIMIT_NOFILE). Every connection is a descriptor, and many
// systems start processes with a soft limit of 1024 while allowing far more: the relay raises its
// soft limit to the hard limit at start (Node does this itself at start-up on Linux; an embedding
// process or a lowered limit may not). Node has no setrlimit, so this asks util-linux `prlimit`
// to set it on this process (permitted for the process's own user, up to the hard limit). The
// values are read back from /proc/self/limits, so what is logged is what the kernel holds.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger, RelayConfig } from '@fastpubsub/core';
import { processDescriptorLimit } from './pre-auth.js';

export interface DescriptorLimits {
  soft: number;
  hard: number;
}

export interface DescriptorLimitReport {
  /** Before and after; undefined where /proc is not available (not Linux). */
  before: DescriptorLimits | undefined;
  after: DescriptorLimits | undefined;
  /** Why the soft limit could not be raised, when it was below the hard limit and still is. */
  failure?: string;
}

/** How long the one `prlimit` call may take before the relay starts without it. */
const PRLIMIT_TIMEOUT_MS = 2000;

/** The soft and hard RLIMIT_NOFILE of this process; Infinity for "unlimited". */
export function readDescriptorLimits(procLimits = '/proc/self/limits'): DescriptorLimits | undefined {
  let text: string;
  try {
    text = readFileSync(procLimits, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const fields = line?.split(/\s{2,}/);
  if (fields === undefined || fields.length < 3) return undefined;
  const parse = (v: string | undefined): number => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number.parseInt(v ?? '', 10));
  const soft = parse(fields[1]);
  const hard = parse(fields[2]);
  return Number.isNaN(soft) || Number.isNaN(hard) ? undefined : { soft, hard };
}

/** Raises this process's soft RLIMIT_NOFILE to its hard limit (a no-op when they are equal). */
export function raiseDescriptorLimit(): DescriptorLimitReport {
  const before = readDescriptorLimits();
  if (before === undefined || before.soft >= before.hard) return { before, after: before };
  const hard = Number.isFinite(before.hard) ? String(before.hard) : 'unlimited';
  let failure: string | undefined;
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`], { timeout: PRLIMIT_TIMEOUT_MS, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer; message?: string };
    failure = e.code === 'ENOENT' ? 'prlimit (util-linux) is not installed' : (e.stderr?.toString().trim() || e.message || String(err));
  }
  const after = readDescriptorLimits();
  if (after !== undefined && after.soft >= before.hard) return { before, after };
  return { before, after, failure: failure ?? 'the soft limit did not change' };
}

/**
 * A listening server's 'error' after listen is a failed accept: EMFILE/ENFILE when descriptors
 * run out. The listener stays open and accepts again once sockets close, so this logs a clear
 * message (at most once per `everyMs`) instead of letting an unhandled 'error' end the process.
 */
export function acceptErrorLogger(logger: { error(msg: string, fields?: Record<string, unknown>): void }, everyMs = 1000): (err: NodeJS.ErrnoException) => void {
  let lastAt = -Infinity;
  let suppressed = 0;
  return (err) => {
    const now = Date.now();
    if (now - lastAt < everyMs) {
      suppressed++;
      return;
    }
    lastAt = now;
    const outOfDescriptors = err.code === 'EMFILE' || err.code === 'ENFILE';
    const limits = readDescriptorLimits();
    logger.error(
      outOfDescriptors
        ? 'out of file descriptors: a connection could not be accepted; raise the hard limit (ulimit -Hn, LimitNOFILE=) or lower limits.maxConnections'
        : 'accepting a connection failed',
      { code: err.code ?? null, err: err.message, softLimit: limits?.soft ?? null, suppressedSinceLast: suppressed },
    );
    suppressed = 0;
  };
}

/**
 * At start, before the pre-auth gate reads the limit: raises the soft limit, logs the result and
 * warns when the limit cannot hold the configured capacity (connections past it are refused).
 */
export function prepareDescriptorLimit(limits: RelayConfig['limits'], logger: Logger): void {
  const report = raiseDescriptorLimit();
  logger.info('descriptor limit (RLIMIT_NOFILE)', { soft: report.after?.soft ?? null, hard: report.after?.hard ?? null, wasSoft: report.before?.soft ?? null });
  if (report.failure !== undefined) logger.warn('could not raise the soft descriptor limit to the hard limit', { reason: report.failure });
  const fdLimit = processDescriptorLimit();
  const fdNeeded = limits.maxConnections + limits.maxPreAuthConnections + limits.fdReserve;
  if (fdLimit !== undefined && fdLimit < fdNeeded) {
    logger.warn(
      `the descriptor limit (${fdLimit}) is below the configured capacity (${fdNeeded} = maxConnections + maxPreAuthConnections + fdReserve): connections beyond ${Math.max(16, fdLimit - limits.fdReserve)} open sockets are refused; raise the hard limit (ulimit -Hn, LimitNOFILE=) or lower limits.maxConnections`,
      { fdLimit, fdNeeded },
    );
  }
}
