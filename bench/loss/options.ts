// Flags of `npm run bench:loss`, parsed the same way by the launcher (outside the namespace) and
// by the runner (inside it). Pure: no I/O, errors are thrown as LossUsageError.
import { parseArgs } from 'node:util';
import { HEADER_BYTES } from '../fanout/payload.js';

/** Broker rows, in table order. `quic` and `ws` are the two edges of one relay process. */
export const LOSS_BROKERS = ['quic', 'ws', 'nats', 'redis'] as const;
export type LossBroker = (typeof LOSS_BROKERS)[number];

export interface LossOptions {
  /** Loss levels, integer percent, in run order. */
  loss: number[];
  brokers: LossBroker[];
  durationMs: number;
  warmupMs: number;
  rate: number;
  payloadBytes: number;
  stallFillBytes: number;
  drainTimeoutMs: number;
  quick: boolean;
  /** Where to write the markdown table; undefined: nowhere. */
  out: string | undefined;
  help: boolean;
}

export const LOSS_HELP = `Usage: npm run bench:loss -- [options]        (as root: needs ip netns and nft)

Runs the relay (QUIC and WebSocket edges), nats-server and redis-server inside a fresh network
namespace whose loopback drops PCT % of incoming packets (nft numgen), and measures 1000 msg/s
of 256 B at fan-out 1, fan-out 10, and fan-out 10 with one stalled subscriber.

  --loss LIST        loss levels in percent (default 0,1,5,10)
  --only LIST        brokers, comma-separated: quic,ws,nats,redis (default all)
  --duration S       measured seconds per row (default 3)
  --warmup S         warm-up seconds per row (default 0.5)
  --rate N           publish rate, msg/s (default 1000)
  --size B           payload bytes, >= ${HEADER_BYTES} (default 256)
  --stall-fill MB    stalled row: MB pushed through before measuring (default 2)
  --drain S          after the window, wait up to S for late deliveries (default 10)
  --quick            smoke: 0.5 s rows, 0.2 s warm-up, 0.5 MB stall fill, writes no file
  --out FILE         write the table here (default bench/results/loss-latest.md;
                     --quick writes nothing unless --out is given)
  -h, --help
`;

export class LossUsageError extends Error {}

function num(v: string | undefined, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new LossUsageError(`--${name} must be a number >= ${min}, got '${v}'`);
  return n;
}

export function parseLossArgs(argv: readonly string[], defaultOut: string): LossOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        loss: { type: 'string' }, only: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' },
        rate: { type: 'string' }, size: { type: 'string' }, 'stall-fill': { type: 'string' }, drain: { type: 'string' },
        quick: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new LossUsageError(err instanceof Error ? err.message : String(err));
  }
  const quick = values.quick === true;
  const loss = (values.loss ?? '0,1,5,10').split(',').map((s) => {
    const n = Number(s.trim());
    if (s.trim() === '' || !Number.isInteger(n) || n < 0 || n > 100) throw new LossUsageError(`--loss takes integer percentages 0..100, got '${s}'`);
    return n;
  });
  const brokers = (values.only ?? LOSS_BROKERS.join(',')).split(',').map((s) => {
    const b = s.trim();
    if (!(LOSS_BROKERS as readonly string[]).includes(b)) throw new LossUsageError(`--only takes ${LOSS_BROKERS.join(', ')}; got '${b}'`);
    return b as LossBroker;
  });
  return {
    loss,
    brokers: LOSS_BROKERS.filter((b) => brokers.includes(b)),
    durationMs: num(values.duration, 'duration', quick ? 0.5 : 3, 0.05) * 1000,
    warmupMs: num(values.warmup, 'warmup', quick ? 0.2 : 0.5, 0) * 1000,
    rate: num(values.rate, 'rate', 1000, 1),
    payloadBytes: Math.floor(num(values.size, 'size', 256, HEADER_BYTES)),
    stallFillBytes: Math.round(num(values['stall-fill'], 'stall-fill', quick ? 0.5 : 2, 0) * 1024 * 1024),
    drainTimeoutMs: num(values.drain, 'drain', 10, 0) * 1000,
    quick,
    out: values.out ?? (quick ? undefined : defaultOut),
    help: values.help === true,
  };
}

/** An upper bound for the whole run, ms: the launcher kills the runner past it. */
export function runBudgetMs(o: LossOptions): number {
  const rows = o.loss.length * 3 * o.brokers.length;
  const perRow = o.warmupMs + o.durationMs + o.drainTimeoutMs + 30_000; // + setup, stall fill, settling
  return 120_000 + rows * perRow;
}
