// The one seam between the harness and a broker. The harness (publisher pacing, subscribers,
// latency, counting) is shared; only these few calls differ between brokers (FastPubSub's
// WebSocket and QUIC edges, NATS, Redis).

/** `fastpubsub` is the relay's WebSocket edge, `fastpubsub-quic` its QUIC edge. */
export type BrokerName = 'fastpubsub' | 'fastpubsub-quic' | 'nats' | 'redis';

/** Called for every delivered message with the bytes of the frame and where the payload starts. */
export type OnPayload = (bytes: Uint8Array, offset: number) => void;

export interface Closeable {
  close(): Promise<void>;
}

export interface Publisher extends Closeable {
  /** Queues one publish of `payload` (the adapter copies it; the caller reuses the buffer). */
  publish(payload: Buffer): void;
  /**
   * Runs a burst of `publish` calls as one socket write where the client allows it (nats.js
   * already coalesces the publishes of one tick; a ws socket is corked around the burst).
   */
  burst(fn: () => void): void;
  /** Resolves once the broker has processed everything published before this call (PING/PONG). */
  roundTrip(): Promise<void>;
}

export interface BrokerAdapter {
  readonly name: BrokerName;
  /** A subscriber to the benchmark subject; resolves once the broker confirmed the subscription. */
  subscriber(onPayload: OnPayload): Promise<Closeable>;
  /** A subscriber that stops reading its socket right after the broker confirmed it. */
  stalledSubscriber(): Promise<Closeable>;
  publisher(): Promise<Publisher>;
}

/** A broker under test, running on loopback (several adapters may share one process). */
export interface RunningBroker {
  readonly name: BrokerName;
  readonly pid: number;
  readonly adapter: BrokerAdapter;
  /**
   * The broker's own slow-consumer counter, cumulative: the relay's dropped slow_consumer
   * messages (/metrics), nats-server's slow consumers (/varz), redis-server's output-buffer-limit
   * disconnections (INFO stats). Proves the stall reached the broker.
   */
  slowConsumerCount(): Promise<number>;
  /** Broker output so far, for diagnosing a failure. */
  output(): string;
  stop(): Promise<void>;
}
