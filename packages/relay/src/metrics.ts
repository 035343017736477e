// Prometheus metrics of one relay. Each relay owns its Registry (never prom-client's global one),
// so several relays in one process (tests, the simulator) never collide. Hot-path counters are
// plain numbers (a CounterCell per label value) that prom-client reads only on scrape, so an
// increment costs one addition, not a label-hash lookup (profiled at ~3 % of relay CPU at
// fan-out 1); gauges are computed only on scrape too.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type EdgeName = 'ws' | 'quic';
export type DropReason = 'slow_consumer' | 'no_subscribers' | 'shutting_down' | 'rate_limited' | 'tenant_budget' | 'idempotent_repeat' | 'superseded';

/** Counter pre-bound to one label set: `inc(n)` is all the hot path sees. */
export interface BoundCounter {
  inc(value?: number): void;
}

/** One label set's running total; read by its Prometheus counter's collect() on scrape. */
class CounterCell implements BoundCounter {
  value = 0;
  inc(value = 1): void {
    this.value += value;
  }
}

/**
 * A Prometheus counter with at most one label whose values live in CounterCells. Returns the
 * cell for a label value ('' when the counter has no label), creating it on first use.
 */
function cellCounter(
  registers: Registry[],
  name: string,
  help: string,
  labelName?: string,
  cells = new Map<string, CounterCell>(),
): (labelValue?: string) => CounterCell {
  new Counter({
    name,
    help,
    labelNames: labelName === undefined ? [] : [labelName],
    registers,
    collect() {
      this.reset();
      for (const [v, cell] of cells) {
        if (labelName === undefined) this.inc(cell.value);
        else this.inc({ [labelName]: v }, cell.value);
      }
    },
  });
  return (labelValue = '') => {
    let cell = cells.get(labelValue);
    if (cell === undefined) cells.set(labelValue, (cell = new CounterCell()));
    return cell;
  };
}

export interface EdgeCounters {
  readonly messagesIn: BoundCounter;
  readonly messagesOut: BoundCounter;
  readonly bytesIn: BoundCounter;
  readonly bytesOut: BoundCounter;
}

export interface GaugeSources {
  connections(edge: EdgeName): number;
  subscriptions(): number;
}

// 10 µs to 1 s: fan-out on loopback takes tens of microseconds, a stalled queue up to seconds.
const LATENCY_BUCKETS_S = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1,
];

export class RelayMetrics {
  readonly registry = new Registry();
  readonly #dropped: (reason: string) => BoundCounter;
  readonly #droppedCells = new Map<string, CounterCell>();
  readonly #errors: (code: string) => BoundCounter;
  readonly slowConsumerDisconnects: BoundCounter;
  readonly #publishToWrite: Histogram;
  readonly ws: EdgeCounters;
  readonly quic: EdgeCounters;

  constructor(sources: GaugeSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'fastpubsub_connections',
      help: 'Open client connections by edge.',
      labelNames: ['edge'],
      registers,
      collect() {
        this.set({ edge: 'ws' }, sources.connections('ws'));
        this.set({ edge: 'quic' }, sources.connections('quic'));
      },
    });
    new Gauge({
      name: 'fastpubsub_subscriptions',
      help: 'Active (tenant, pattern, connection) subscriptions.',
      registers,
      collect() {
        this.set(sources.subscriptions());
      },
    });
    const counter = (name: string, help: string): ((edge: string) => BoundCounter) => cellCounter(registers, name, help, 'edge');
    const messagesIn = counter('fastpubsub_messages_in_total', 'Publish frames received.');
    const messagesOut = counter('fastpubsub_messages_out_total', 'Delivery frames handed to client sockets.');
    const bytesIn = counter('fastpubsub_bytes_in_total', 'Bytes of publish frames received (WebSocket message size; QUIC native frame size).');
    const bytesOut = counter('fastpubsub_bytes_out_total', 'Bytes of delivery frames handed to client sockets or QUIC streams (with WebSocket or native framing).');
    const bind = (edge: EdgeName): EdgeCounters => ({
      messagesIn: messagesIn(edge),
      messagesOut: messagesOut(edge),
      bytesIn: bytesIn(edge),
      bytesOut: bytesOut(edge),
    });
    this.ws = bind('ws');
    this.quic = bind('quic');
    // Present from the first scrape, so rates and alerts work before any traffic.
    for (const edge of [this.ws, this.quic]) for (const c of Object.values(edge as unknown as Record<string, BoundCounter>)) c.inc(0);
    this.#dropped = cellCounter(registers, 'fastpubsub_dropped_messages_total', 'Messages not delivered, by reason.', 'reason', this.#droppedCells);
    for (const reason of ['slow_consumer', 'no_subscribers', 'rate_limited', 'superseded'] as const) this.dropped(reason, 0);
    this.slowConsumerDisconnects = cellCounter(
      registers,
      'fastpubsub_slow_consumer_disconnects_total',
      "Connections closed because their outbound queue overflowed under the 'disconnect' policy.",
    )();
    this.#errors = cellCounter(registers, 'fastpubsub_errors_total', 'ERR replies sent and handshakes rejected, by error code.', 'code');
    this.#publishToWrite = new Histogram({
      name: 'fastpubsub_publish_to_write_seconds',
      help: "From a publish frame's arrival to its delivery being handed to a subscriber's socket.",
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
  }

  dropped(reason: DropReason, count = 1): void {
    this.#dropped(reason).inc(count);
  }

  /** `code` comes from the closed ErrorCode / WireErrorCode sets, so the label set stays bounded. */
  error(code: string): void {
    this.#errors(code).inc();
  }

  edge(name: EdgeName): EdgeCounters {
    return name === 'ws' ? this.ws : this.quic;
  }

  observePublishToWrite(seconds: number): void {
    this.#publishToWrite.observe(seconds);
  }

  /** Cumulative drops by reason and the publish→write histogram's per-bucket counts, for the console's per-PoP charts. */
  async deliveryFigures(): Promise<{ drops: Record<string, number>; latencyBoundsMs: number[]; latencyCounts: number[] }> {
    const drops = Object.fromEntries([...this.#droppedCells].map(([reason, cell]) => [reason, cell.value]));
    const buckets = (await this.#publishToWrite.get()).values.filter((v) => v.metricName === 'fastpubsub_publish_to_write_seconds_bucket');
    const cumulative = LATENCY_BUCKETS_S.map((le) => buckets.find((b) => b.labels['le'] === le)?.value ?? 0);
    const total = buckets.find((b) => b.labels['le'] === '+Inf')?.value ?? cumulative.at(-1) ?? 0;
    const latencyCounts = [...cumulative, total].map((c, i, all) => c - (i === 0 ? 0 : all[i - 1]!));
    return { drops, latencyBoundsMs: LATENCY_BUCKETS_S.map((s) => s * 1000), latencyCounts };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
