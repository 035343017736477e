// Flags of `npm run bench:latest`, parsed the same way by the launcher and by the runner. Pure.
import { parseArgs } from 'node:util';

export interface LatestOptions {
  loss: number[];
  durationMs: number;
  warmupMs: number;
  channels: number;
  hz: number;
  /** Round trip of the emulated QUIC path (second phase); 0 skips that phase. */
  rttMs: number;
  out: string | undefined;
  help: boolean;
}

export const LATEST_HELP = `Usage: npm run bench:latest -- [options]       (as root: needs ip netns and nft)

A 60 Hz state stream (200 B positions on several channels) through one relay inside a fresh
network namespace whose loopback drops PCT % of incoming packets (nft numgen, as bench:loss).
Three subscribers of the same stream: latest mode over QUIC datagrams, a reliable QUIC
subscription stream, and the WebSocket edge. Reports the age of the newest state held by each
(sampled at 1 kHz; p50/p99) and the age of each state on arrival.

  --loss LIST      loss levels in percent (default 0,5,10)
  --duration S     measured seconds per level (default 20)
  --warmup S       seconds after setting a level before measuring (default 2)
  --channels N     state channels (default 8)
  --hz N           updates per second per channel (default 60)
  --rtt MS         second phase: the two QUIC subscribers again, through a userspace link
                   emulator with this round trip and the same loss levels applied by the
                   emulator instead of nft (default 40; 0 skips it)
  --out FILE       write the table here (default bench/results/latest-latest.md)
  -h, --help
`;

export class LatestUsageError extends Error {}

function num(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new LatestUsageError(`--${name} must be a number in ${min}..${max}, got '${v}'`);
  return n;
}

export function parseLatestArgs(argv: readonly string[], defaultOut: string): LatestOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        loss: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        channels: { type: 'string' },
        hz: { type: 'string' },
        rtt: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new LatestUsageError(err instanceof Error ? err.message : String(err));
  }
  const loss = (values.loss ?? '0,5,10').split(',').map((s) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isInteger(n) || n < 0 || n > 50) throw new LatestUsageError(`--loss takes integer percentages 0..50, got '${s}'`);
    return n;
  });
  return {
    loss,
    durationMs: num(values.duration, 'duration', 20, 1, 300) * 1000,
    warmupMs: num(values.warmup, 'warmup', 2, 0, 60) * 1000,
    channels: Math.round(num(values.channels, 'channels', 8, 1, 256)),
    hz: num(values.hz, 'hz', 60, 1, 1000),
    rttMs: num(values.rtt, 'rtt', 40, 0, 1000),
    out: values.out ?? defaultOut,
    help: values.help === true,
  };
}

/** Whole-run budget for the launcher: levels × (warm-up + duration) plus start-up slack. */
export function latestBudgetMs(o: LatestOptions): number {
  const phases = o.rttMs > 0 ? 2 : 1;
  return phases * o.loss.length * (o.warmupMs + o.durationMs + 5000) + 90_000;
}
