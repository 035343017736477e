// Prometheus metrics of one relay. Each relay owns its Registry (never prom-client's global one),
// so several relays in one process (tests, the simulator) never collide. Hot-path counters are
// pre-bound to their label values and cost one increment; gauges are computed only on scrape.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type EdgeName = 'ws' | 'quic';
export type DropReason = 'slow_consumer' | 'no_subscribers' | 'shutting_down';

/** Counter pre-bound to one label set: `inc(n)` is all the hot path sees. */
export interface BoundCounter {
  inc(value?: number): void;
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
  readonly #dropped: Counter<'reason'>;
  readonly #errors: Counter<'code'>;
  readonly #errorsByCode = new Map<string, BoundCounter>();
  readonly #dropsByReason = new Map<DropReason, BoundCounter>();
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
    const counter = (name: string, help: string): Counter<'edge'> =>
      new Counter({ name, help, labelNames: ['edge'], registers });
    const messagesIn = counter('fastpubsub_messages_in_total', 'Publish frames received.');
    const messagesOut = counter('fastpubsub_messages_out_total', 'Delivery frames handed to client sockets.');
    const bytesIn = counter('fastpubsub_bytes_in_total', 'Bytes of publish frames received (WebSocket message size; QUIC native frame size).');
    const bytesOut = counter('fastpubsub_bytes_out_total', 'Bytes of delivery frames handed to client sockets or QUIC streams (with WebSocket or native framing).');
    const bind = (edge: EdgeName): EdgeCounters => ({
      messagesIn: messagesIn.labels(edge),
      messagesOut: messagesOut.labels(edge),
      bytesIn: bytesIn.labels(edge),
      bytesOut: bytesOut.labels(edge),
    });
    this.ws = bind('ws');
    this.quic = bind('quic');
    // Present from the first scrape, so rates and alerts work before any traffic.
    for (const c of [...Object.values(this.ws), ...Object.values(this.quic)]) c.inc(0);
    this.#dropped = new Counter({
      name: 'fastpubsub_dropped_messages_total',
      help: 'Messages not delivered, by reason.',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['slow_consumer', 'no_subscribers'] as const) this.dropped(reason, 0);
    this.slowConsumerDisconnects = new Counter({
      name: 'fastpubsub_slow_consumer_disconnects_total',
      help: "Connections closed because their outbound queue overflowed under the 'disconnect' policy.",
      registers,
    });
    this.#errors = new Counter({
      name: 'fastpubsub_errors_total',
      help: 'ERR replies sent and handshakes rejected, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.#publishToWrite = new Histogram({
      name: 'fastpubsub_publish_to_write_seconds',
      help: "From a publish frame's arrival to its delivery being handed to a subscriber's socket.",
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
  }

  dropped(reason: DropReason, count = 1): void {
    let c = this.#dropsByReason.get(reason);
    if (c === undefined) {
      c = this.#dropped.labels(reason);
      this.#dropsByReason.set(reason, c);
    }
    c.inc(count);
  }

  /** `code` comes from the closed ErrorCode / WireErrorCode sets, so the label set stays bounded. */
  error(code: string): void {
    let c = this.#errorsByCode.get(code);
    if (c === undefined) {
      c = this.#errors.labels(code);
      this.#errorsByCode.set(code, c);
    }
    c.inc();
  }

  edge(name: EdgeName): EdgeCounters {
    return name === 'ws' ? this.ws : this.quic;
  }

  observePublishToWrite(seconds: number): void {
    this.#publishToWrite.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
