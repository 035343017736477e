// Subscriptions: a bounded buffer per subscription with an overflow policy and visible drop
// counts, consumed either as an async iterable, through a callback, or by `latest()`.
import { ClientError, abortError } from './errors.js';
import type { PresenceEvent, PresenceOptions } from './presence.js';

export interface Message {
  tenant: string;
  /** The concrete channel the message was published to. */
  channel: string;
  /** The payload bytes; shared by every subscription the message matched: do not modify. */
  payload: Uint8Array;
  /** The pattern of the subscription this message is delivered to. */
  pattern: string;
}

export type OverflowPolicy = 'drop-oldest' | 'drop-newest';
export type SubscriptionMode = 'all' | 'latest';

export interface SubscribeOptions {
  signal?: AbortSignal;
  /**
   * 'latest': only the newest message per channel counts (state streams: positions, prices).
   * The edge keeps at most one undelivered message per channel for this subscription (QUIC sends
   * what fits as datagrams) and this subscription's buffer does the same; replaced messages are
   * counted in `stats.superseded`. Default 'all': every message, in order. The first
   * subscription of a (tenant, pattern) decides the mode on the wire.
   */
  mode?: SubscriptionMode;
  /** Callback form: called for every message instead of buffering it for the iterator. */
  onMessage?: (message: Message) => void;
  /** Messages buffered while the app's iterator is not consuming (default 1024). */
  bufferSize?: number;
  /** What to do when the buffer is full (default 'drop-oldest'). */
  overflow?: OverflowPolicy;
  /**
   * Resolve only once every PoP of the relay mesh routes this subscription's messages to the
   * edge (WebSocket transport), so a publish made anywhere after `subscribe()` resolves reaches
   * it. Costs about one path latency across the mesh; a standalone relay answers at once.
   */
  meshReady?: boolean;
  /** Bound on the meshReady wait (default 10 000 ms); past it `subscribe()` rejects with `timeout`. */
  meshReadyTimeoutMs?: number;
  /** Join the channel's presence (exact channels only; WebSocket and QUIC transports). */
  presence?: PresenceOptions;
  /** Called with the channel's join/leave events (exact channels only; WebSocket edge). */
  onPresence?: (event: PresenceEvent) => void;
}

export interface SubscriptionStats {
  /** Messages that reached this subscription. */
  received: number;
  /** Messages discarded because the buffer was full (or superseded, under `latest()`). */
  dropped: number;
  /** Messages waiting in the buffer. */
  buffered: number;
  /** Latest mode: buffered messages replaced by a newer one of the same channel. */
  superseded: number;
}

export interface Subscription extends AsyncIterable<Message> {
  readonly tenant: string;
  readonly pattern: string;
  readonly stats: Readonly<SubscriptionStats>;
  /** Stops delivery: ends the iterator and sends UNSUB when no other subscription holds the pattern. */
  unsubscribe(): Promise<void>;
  /** Resolves when the subscription ends: undefined after unsubscribe/close, else the error (e.g. permission_denied). */
  closed(): Promise<Error | undefined>;
}

type Sink = (message: Message) => void;

export class SubscriptionImpl implements Subscription {
  readonly stats: SubscriptionStats = { received: 0, dropped: 0, buffered: 0, superseded: 0 };
  /** Latest mode: the buffer is this, newest message per channel, in first-arrival order. */
  private readonly newest: Map<string, Message> | undefined;
  /** The presence watcher this subscription registered (the client removes it on unsubscribe). */
  presenceWatcher: ((event: PresenceEvent) => void) | undefined;
  private buffer: Message[] = [];
  private head = 0;
  private waiter: { resolve: (r: IteratorResult<Message>) => void; reject: (e: unknown) => void } | undefined;
  private sink: Sink | undefined;
  private ended = false;
  private endError: Error | undefined;
  private readonly closedPromise: Promise<Error | undefined>;
  private resolveClosed!: (e: Error | undefined) => void;
  private readonly bufferSize: number;
  private readonly overflow: OverflowPolicy;
  private iterating = false;

  constructor(
    readonly tenant: string,
    readonly pattern: string,
    options: SubscribeOptions,
    private readonly onUnsubscribe: (sub: SubscriptionImpl) => void,
  ) {
    this.bufferSize = Math.max(1, options.bufferSize ?? 1024);
    this.overflow = options.overflow ?? 'drop-oldest';
    if (options.mode !== undefined && options.mode !== 'all' && options.mode !== 'latest') {
      throw new ClientError('bad_argument', `mode must be 'all' or 'latest', got ${JSON.stringify(options.mode)}`);
    }
    this.newest = options.mode === 'latest' ? new Map() : undefined;
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    if (options.onMessage !== undefined) this.sink = options.onMessage;
  }

  /** Called by the client for each message matching this subscription. */
  push(message: Message): void {
    if (this.ended) return;
    this.stats.received++;
    if (this.sink !== undefined) return this.sink(message);
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: message, done: false });
      return;
    }
    if (this.newest !== undefined) return this.keepNewest(this.newest, message);
    if (this.buffer.length - this.head >= this.bufferSize) {
      this.stats.dropped++;
      if (this.overflow === 'drop-newest') return;
      this.head++;
    }
    this.buffer.push(message);
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    this.stats.buffered = this.buffer.length - this.head;
  }

  get latest(): boolean {
    return this.newest !== undefined;
  }

  private keepNewest(newest: Map<string, Message>, message: Message): void {
    if (newest.has(message.channel)) this.stats.superseded++;
    else if (newest.size >= this.bufferSize) {
      const oldest = newest.keys().next().value as string;
      newest.delete(oldest);
      this.stats.dropped++;
    }
    newest.set(message.channel, message); // an existing channel keeps its turn
    this.stats.buffered = newest.size;
  }

  /** Replaces the consumer (used by `latest()`); buffered messages go to it first. */
  setSink(sink: Sink): void {
    if (this.iterating || this.sink !== undefined) throw new ClientError('bad_argument', 'this subscription already has a consumer');
    this.sink = sink;
    const pending = this.newest === undefined ? this.buffer.slice(this.head) : [...this.newest.values()];
    this.newest?.clear();
    this.buffer = [];
    this.head = 0;
    this.stats.buffered = 0;
    for (const m of pending) sink(m);
  }

  /** Ends the subscription (no UNSUB: the client did that, or the connection is gone). */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      if (error !== undefined) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
    this.resolveClosed(error);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  unsubscribe(): Promise<void> {
    if (!this.ended) {
      this.onUnsubscribe(this);
      this.end();
    }
    return Promise.resolve();
  }

  closed(): Promise<Error | undefined> {
    return this.closedPromise;
  }

  /** Waits for the next message; resolves done when the subscription ends. */
  next(signal?: AbortSignal): Promise<IteratorResult<Message>> {
    const newest = this.newest;
    if (newest !== undefined && newest.size > 0) {
      const [channel, value] = newest.entries().next().value as [string, Message];
      newest.delete(channel);
      this.stats.buffered = newest.size;
      return Promise.resolve({ value, done: false });
    }
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head]!;
      this.buffer[this.head++] = undefined as unknown as Message;
      if (this.head === this.buffer.length) {
        this.buffer = [];
        this.head = 0;
      }
      this.stats.buffered = this.buffer.length - this.head;
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) {
      return this.endError !== undefined ? Promise.reject(this.endError) : Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter !== undefined) return Promise.reject(new ClientError('bad_argument', 'next() called while another next() is pending'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = undefined;
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    if (this.sink !== undefined) throw new ClientError('bad_argument', 'a subscription with a callback (or latest()) cannot also be iterated');
    this.iterating = true;
    return {
      next: () => this.next(),
      return: async () => {
        await this.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  }
}

/** Keeps only the newest message of a subscription: for game and UI loops that poll each frame. */
export interface Latest {
  /** The newest message not yet taken, if any. */
  readonly value: Message | undefined;
  /** Returns the newest message and forgets it (undefined if none arrived since the last take). */
  take(): Message | undefined;
  /** Waits for a message newer than the last one taken. */
  next(options?: { signal?: AbortSignal }): Promise<Message>;
  /** The subscription; its `stats.dropped` counts the superseded messages. */
  readonly subscription: Subscription;
}

export function latest(subscription: Subscription): Latest {
  if (!(subscription instanceof SubscriptionImpl)) throw new ClientError('bad_argument', 'latest() needs a subscription from client.subscribe()');
  const sub = subscription;
  let value: Message | undefined;
  let wake: (() => void) | undefined;
  sub.setSink((m) => {
    if (value !== undefined) sub.stats.dropped++;
    value = m;
    const w = wake;
    wake = undefined;
    w?.();
  });
  const take = (): Message | undefined => {
    const v = value;
    value = undefined;
    return v;
  };
  return {
    get value() {
      return value;
    },
    take,
    subscription: sub,
    async next(options?: { signal?: AbortSignal }): Promise<Message> {
      const signal = options?.signal;
      while (value === undefined) {
        if (sub.isEnded) throw (await sub.closed()) ?? new ClientError('closed', 'subscription ended');
        if (signal?.aborted) throw abortError(signal);
        await new Promise<void>((resolve) => {
          const done = (): void => {
            signal?.removeEventListener('abort', done);
            resolve();
          };
          wake = done;
          signal?.addEventListener('abort', done, { once: true });
          void sub.closed().then(done);
        });
      }
      return take()!;
    },
  };
}
