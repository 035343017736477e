// A QUIC stream: bidirectional, or one direction of a unidirectional stream.
import { EventEmitter } from 'node:events';
import { QuicError, QuicErrorCode } from './errors.js';
import { WriteResult, type NativeEndpoint } from './native.js';

const EMPTY = new Uint8Array(0);

export interface QuicStreamEvents {
  /** The stream exists on the wire (locally opened streams only); `quicId` is now set. */
  open: [];
  /** A batch of received bytes: every chunk read since the last batch, concatenated. Like node:stream, reading starts when the first 'data' listener is attached; nothing is lost before. */
  data: [chunk: Buffer];
  /** The peer finished its send side cleanly; no more 'data'. */
  end: [];
  /** The peer reset its send side with an application code; no more 'data'. Emitted at once, even when paused (queued data is dropped). */
  reset: [code: number];
  /** The peer asked us to stop sending (STOP_SENDING) with an application code. */
  stop: [code: number];
  /** The send buffer fell below the high-water mark after write() returned false. */
  drain: [];
  /** Both directions are done; the stream is forgotten. `error` if it ended abnormally (open failed, connection lost). */
  close: [error?: QuicError];
}

export type QuicStreamDirection = 'bidi' | 'uni';

/**
 * One QUIC stream. `writable` streams: write()/writev()/end()/reset(); `readable` streams:
 * 'data'/'end'/'reset' events, pause()/resume()/stopSending(). A bidirectional stream is both.
 */
export class QuicStream extends EventEmitter<QuicStreamEvents> {
  /** Binding handle (unique per endpoint). */
  readonly id: number;
  /** QUIC stream index within its direction/initiator class (undefined until 'open' for local streams). */
  quicId: number | undefined;
  readonly direction: QuicStreamDirection;
  /** 'local' if we opened it. */
  readonly initiator: 'local' | 'remote';
  readonly readable: boolean;
  readonly writable: boolean;
  #native: NativeEndpoint;
  #ended = false;
  #closed = false;
  /** User called pause(). */
  #paused = false;
  /** Read events are emitted as they come (a 'data' listener is attached and not paused). */
  #flowing = false;
  #nativePaused = false;
  #backlog: (['data', Buffer] | ['end'] | ['reset', number])[] = [];
  #closePending: { error: QuicError | undefined } | undefined;
  #error: QuicError | undefined;

  /** @internal */
  constructor(native: NativeEndpoint, id: number, direction: QuicStreamDirection, initiator: 'local' | 'remote', quicId?: number) {
    super();
    this.#native = native;
    this.id = id;
    this.direction = direction;
    this.initiator = initiator;
    this.quicId = quicId;
    this.readable = direction === 'bidi' || initiator === 'remote';
    this.writable = direction === 'bidi' || initiator === 'local';
    if (this.readable) {
      // Like node:stream: nothing is lost before the first 'data' listener; reading starts then.
      (this as unknown as EventEmitter).on('newListener', (event: string | symbol) => {
        if (event === 'data' && !this.#flowing && !this.#paused) queueMicrotask(() => this.#flow());
      });
    }
  }

  #setNativePaused(p: boolean): void {
    if (this.#nativePaused !== p && !this.#closed) {
      this.#nativePaused = p;
      this.#native.setPaused(this.id, p);
    }
  }

  #flow(): void {
    if (this.#paused || this.#flowing || this.listenerCount('data') === 0) return;
    this.#flowing = true;
    while (this.#flowing && this.#backlog.length > 0) this.#emitRead(this.#backlog.shift()!);
    if (this.#flowing) {
      this.#setNativePaused(false);
      if (this.#closePending !== undefined) this.#finishClose(this.#closePending.error);
    }
  }

  #emitRead(e: ['data', Buffer] | ['end'] | ['reset', number]): void {
    if (e[0] === 'data') this.emit('data', e[1]);
    else if (e[0] === 'end') this.emit('end');
    else this.emit('reset', e[1]);
  }

  /** @internal a read-side event from the binding */
  _push(e: ['data', Buffer] | ['end'] | ['reset', number]): void {
    if (e[0] === 'reset') {
      // Like an error: reported at once, unread data is discarded (RFC 9000 §3.2).
      this.#backlog = [];
      this.emit('reset', e[1]);
      return;
    }
    if (this.#flowing) {
      this.#emitRead(e);
      return;
    }
    this.#backlog.push(e);
    this.#setNativePaused(true);
  }

  /** True once the stream has been forgotten ('close' emitted). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes accepted by write() and not yet handed to QUIC. */
  get writableLength(): number {
    return this.#closed ? 0 : this.#native.buffered(this.id);
  }

  /**
   * True when nothing waits in the send buffer; otherwise 'drain' is emitted once it has all
   * gone to QUIC (or the stream closes). For "everything written" waits, e.g. a client's flush.
   */
  notifyWhenEmpty(): boolean {
    return this.#closed || this.#native.notifyWhenEmpty(this.id);
  }

  #checkWritable(): void {
    if (!this.writable) throw new QuicError(QuicErrorCode.NotWritable, 'stream is receive-only');
    if (this.#ended) throw new QuicError(QuicErrorCode.StreamClosed, 'write after end()/reset()');
  }

  /**
   * Queues bytes (copied) without blocking. Returns false when the stream's send buffer is at
   * or above its high-water mark: wait for 'drain'. Also false when the stream can no longer
   * send (peer stopped it, connection lost): 'stop'/'close' tells which; the bytes are dropped.
   */
  write(chunk: Uint8Array): boolean {
    this.#checkWritable();
    return this.#native.write(this.id, chunk) === WriteResult.Accepted;
  }

  /** write() for many chunks in one call into the binding (they are joined into one chunk). */
  writev(chunks: readonly Uint8Array[]): boolean {
    this.#checkWritable();
    if (chunks.length === 0) return this.#native.write(this.id, EMPTY) === WriteResult.Accepted;
    return this.#native.writev(this.id, chunks as Uint8Array[]) === WriteResult.Accepted;
  }

  /** Finishes the send side cleanly after everything queued is sent (optionally writing a last chunk). */
  end(chunk?: Uint8Array): void {
    if (chunk !== undefined) this.write(chunk);
    else this.#checkWritable();
    this.#ended = true;
    this.#native.finish(this.id);
  }

  /** Abandons the send side: queued bytes are dropped and the peer sees RESET_STREAM(code). */
  reset(code: number): void {
    if (!this.writable) throw new QuicError(QuicErrorCode.NotWritable, 'stream is receive-only');
    this.#ended = true;
    this.#native.reset(this.id, code);
  }

  /** Asks the peer to stop sending (STOP_SENDING(code)); no more 'data' is delivered. */
  stopSending(code: number): void {
    if (!this.readable) throw new QuicError(QuicErrorCode.NotReadable, 'stream is send-only');
    this.#native.stopSending(this.id, code);
  }

  /** Stops reading: once the binding's receive buffer and the stream window fill, the peer is blocked on this stream only. */
  pause(): this {
    if (!this.#paused && this.readable) {
      this.#paused = true;
      this.#flowing = false;
      this.#setNativePaused(true);
    }
    return this;
  }

  /** Resumes after pause(); queued reads are emitted at once (if a 'data' listener is attached). */
  resume(): this {
    if (this.#paused) {
      this.#paused = false;
      this.#flow();
    }
    return this;
  }

  get isPaused(): boolean {
    return this.#paused;
  }

  /** @internal */
  _fail(error: QuicError): void {
    this.#error ??= error;
  }

  /** @internal */
  _close(error?: QuicError): void {
    if (this.#closed || this.#closePending !== undefined) return;
    this.#ended = true;
    const e = this.#error ?? error;
    // Deliver queued reads before 'close' (unless the connection died: then drop them).
    if (this.#backlog.length > 0 && e === undefined) this.#closePending = { error: e };
    else this.#finishClose(e);
  }

  #finishClose(e: QuicError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closePending = undefined;
    this.#backlog = [];
    if (e === undefined) this.emit('close');
    else this.emit('close', e);
  }
}
