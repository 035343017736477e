// One QUIC subscription: a sink of the dispatcher with its own unidirectional stream and its own
// bounded queue. Deliveries are queued and written once per tick (FlushBatcher) with one
// writev; when the binding's per-stream buffer is full, write() says so and we wait for that
// stream's 'drain' while the queue absorbs, then drops its oldest (counted as slow_consumer) or
// resets the stream — and no other stream or connection notices (head-of-line isolation).
// With the datagram flag, messages that fit go out as DMSG datagrams and larger ones on the
// stream. In latest mode (the LATEST flag, or the tenant's per-channel default stamped on the
// message) messages that fit go out as datagrams too, and the queue keeps only the newest
// message per channel: a superseded one is replaced in place and counted as 'superseded'.
import { performance } from 'node:perf_hooks';
import { writeFrames, type FlushBatcher, type QuicConnection, type QuicStream } from '@fastpubsub/quic';
import { SUPERSEDED_NOTICE, encodeDmsg, encodeMsg, encodeOk } from '@fastpubsub/wire';
import type { QuicSlowConsumerPolicy } from '@fastpubsub/core';
import type { DispatchMessage, Encodings, Sink } from '../../delivery/index.js';
import { OutboundQueue } from '../../fanout/index.js';
import type { RelayMetrics } from '../../metrics.js';
import { QuicStreamCode } from '@fastpubsub/wire';

/** Bytes handed to the binding per writev call; it joins the chunks into one buffer. */
const WRITE_SLICE_BYTES = 64 * 1024;

export interface SubscriptionContext {
  readonly metrics: RelayMetrics;
  readonly batcher: FlushBatcher;
  readonly queueBytes: number;
  readonly policy: QuicSlowConsumerPolicy;
}

export interface SubscriptionOwner {
  readonly connection: QuicConnection;
  /** The queue overflowed under 'reset': the owner reports it and forgets the subscription. */
  onReset(sub: QuicSubscription): void;
  /** The client sent STOP_SENDING on the stream: it no longer wants it. */
  onStopped(sub: QuicSubscription): void;
}

export class QuicSubscription implements Sink {
  readonly edge = 'quic' as const;
  readonly connection: object;
  readonly id: number;
  readonly tenant: string;
  readonly pattern: string;
  readonly datagram: boolean;
  readonly latest: boolean;
  readonly #ctx: SubscriptionContext;
  readonly #owner: SubscriptionOwner;
  readonly #stream: QuicStream;
  readonly #queue: OutboundQueue;
  #blocked = false;
  #enlisted = false;
  /** Supersessions not yet told to the subscriber (latest flag only; spec §3 "Latest mode"). */
  #unreported = 0;
  #closed = false;

  constructor(
    ctx: SubscriptionContext,
    owner: SubscriptionOwner,
    sub: { id: number; tenant: string; pattern: string; datagram: boolean; latest?: boolean },
  ) {
    this.#ctx = ctx;
    this.#owner = owner;
    this.connection = owner;
    this.id = sub.id;
    this.tenant = sub.tenant;
    this.pattern = sub.pattern;
    this.datagram = sub.datagram;
    this.latest = sub.latest === true;
    this.#queue = new OutboundQueue({ maxBytes: ctx.queueBytes, policy: ctx.policy === 'reset' ? 'disconnect' : 'drop-oldest' });
    this.#stream = owner.connection.openUniStream();
    // The first frame binds the stream to the subscription id (spec §3 session flow).
    this.#stream.write(encodeOk({ id: sub.id, topic: '' }));
    this.#stream.on('drain', () => {
      this.#blocked = false;
      this.flush();
    });
    this.#stream.on('stop', () => {
      if (!this.#closed) this.#owner.onStopped(this);
    });
    this.#stream.on('close', () => {
      this.#closed = true;
      this.#queue.clear();
    });
  }

  /** Bytes waiting in this subscription's own queue. */
  get queuedBytes(): number {
    return this.#queue.bytes;
  }

  get droppedCount(): number {
    return this.#queue.droppedCount;
  }

  /** Messages replaced in the queue by a newer one of the same channel (latest mode). */
  get supersededCount(): number {
    return this.#queue.supersededCount;
  }

  deliver(msg: DispatchMessage, _patterns: readonly string[], encodings: Encodings): number {
    if (this.#closed) return 0;
    const latest = this.latest || msg.latest === true;
    if (this.datagram || latest) {
      const sent = this.#sendDatagram(msg);
      if (sent > 0) return sent;
    }
    // MSG carries only (channel, data): the stream says which subscription, so every QUIC
    // subscriber of this publish shares one encoding.
    const frame = encodings.get('quic-msg', '', (m) => encodeMsg({ channel: m.channel, data: m.payload }));
    const r = this.#queue.push(frame, msg.arrivedAtMs, latest ? msg.channel : undefined);
    if (r.ok && r.superseded === true) {
      this.#ctx.metrics.dropped('superseded');
      if (this.latest) this.#unreported++;
      return 0; // its place in the queue is already enlisted for the next flush
    }
    if (!r.ok) {
      this.#ctx.metrics.dropped('slow_consumer');
      this.#owner.onReset(this);
      return 0;
    }
    if (r.droppedCount > 0) this.#ctx.metrics.dropped('slow_consumer', r.droppedCount);
    if (!this.#blocked && !this.#enlisted) {
      this.#enlisted = true;
      this.#ctx.batcher.enlist(this);
    }
    return 0;
  }

  #sendDatagram(msg: DispatchMessage): number {
    const max = this.#owner.connection.maxDatagramSize;
    // 6-byte header + channel + 4-byte id + data; valid channels are ASCII (1 byte per char).
    if (max === undefined || 10 + msg.channel.length + msg.payload.byteLength > max) return 0;
    try {
      const frame = encodeDmsg({ id: this.id, channel: msg.channel, data: msg.payload });
      this.#owner.connection.sendDatagram(frame);
      return frame.byteLength;
    } catch {
      return 0; // path MTU shrank or the connection is closing: fall back to the stream
    }
  }

  /** Writes what is queued, in slices, until the stream's buffer says stop. */
  flush(): void {
    this.#enlisted = false;
    const m = this.#ctx.metrics;
    while (!this.#closed && !this.#blocked && this.#queue.length > 0) {
      const chunks: Uint8Array[] = [];
      let notices = 0;
      if (this.#unreported > 0) {
        // Ahead of the messages that superseded them: how many this subscription did not get.
        chunks.push(encodeOk({ id: this.id, topic: `${SUPERSEDED_NOTICE}${this.#unreported}` }));
        this.#unreported = 0;
        notices = 1;
      }
      let bytes = 0;
      let oldest = Infinity;
      while (bytes < WRITE_SLICE_BYTES) {
        const item = this.#queue.shift();
        if (item === undefined) break;
        chunks.push(item.chunk);
        bytes += item.chunk.byteLength;
        if (item.enqueuedAtMs < oldest) oldest = item.enqueuedAtMs;
      }
      const more = writeFrames(this.#stream, chunks);
      m.quic.messagesOut.inc(chunks.length - notices);
      m.quic.bytesOut.inc(bytes);
      // One observation per write call, for its oldest message: the worst case of the batch.
      m.observePublishToWrite((performance.now() - oldest) / 1000);
      if (!more) this.#blocked = true;
    }
  }

  /** Unsubscribed: send what is queued, then finish the stream cleanly. */
  end(): void {
    if (this.#closed) return;
    this.#blocked = false;
    this.flush();
    this.#closed = true;
    this.#queue.clear();
    try {
      this.#stream.end();
    } catch {
      // already reset or the connection is gone
    }
  }

  /** Abandons the stream with a code (slow consumer under 'reset', connection closing). */
  reset(code: number = QuicStreamCode.Cancelled): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.clear();
    try {
      this.#stream.reset(code);
    } catch {
      // already finished or the connection is gone
    }
  }
}
