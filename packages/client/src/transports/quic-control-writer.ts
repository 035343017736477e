// The QUIC client's control-stream writer: frames are collected and written together once per
// tick through the shared outbound batcher (the relay's subscription streams use the same one),
// held while the stream pushes back, and measured for backpressure: drained() for "below the
// high-water mark", written() for "everything handed to QUIC" (a client's flush()).
import { FlushBatcher, writeFrames, type QuicStream } from '@fastpubsub/quic';
import { ClientError } from '../errors.js';

const OUTBOUND = new FlushBatcher();

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class ControlWriter {
  readonly #control: QuicStream;
  readonly #highWaterMark: number;
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #flushScheduled = false;
  readonly #flusher = { flush: (): void => this.flush() };
  /** The stream's write() returned false: hold frames in #out until its 'drain'. */
  #blocked = false;
  #closed = false;
  #drainWaiters: Pending[] = [];
  /** written() callers: settled when nothing is held here or in the binding's send buffer. */
  #writtenWaiters: (() => void)[] = [];

  constructor(control: QuicStream, highWaterMark: number) {
    this.#control = control;
    this.#highWaterMark = highWaterMark;
    control.on('drain', () => this.#onDrain());
  }

  /** Bytes of frames not yet handed to QUIC. */
  get bufferedAmount(): number {
    return this.#outBytes + (this.#closed ? 0 : this.#control.writableLength);
  }

  get belowHighWaterMark(): boolean {
    return !this.#blocked && this.bufferedAmount < this.#highWaterMark;
  }

  send(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#out.push(frame);
    this.#outBytes += frame.byteLength;
    if (!this.#flushScheduled && !this.#blocked) {
      this.#flushScheduled = true;
      OUTBOUND.enlist(this.#flusher);
    }
  }

  /** Resolves once below the high-water mark; rejects if the connection closes first. */
  drained(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClientError('closed', 'quic client closed'));
    if (this.belowHighWaterMark) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /** Resolves once every frame sent so far is in QUIC's hands, or the connection is closed. */
  written(): Promise<void> {
    if (this.#isWritten()) return Promise.resolve();
    return new Promise<void>((resolve) => this.#writtenWaiters.push(resolve));
  }

  flush(): void {
    this.#flushScheduled = false;
    const out = this.#out;
    if (out.length === 0 || this.#control.closed || this.#blocked) return;
    this.#out = [];
    this.#outBytes = 0;
    try {
      // false: the stream's send buffer is at its high-water mark (or it can no longer send;
      // 'close' then reports it). Hold later frames here until 'drain'.
      this.#blocked = !writeFrames(this.#control, out);
    } catch {
      // the connection is going away; 'close' reports it
    }
    if (this.#writtenWaiters.length > 0 && this.#isWritten()) this.#settleWritten();
  }

  /** The connection is gone: nothing more is sent; waiters learn it. */
  closed(err: ClientError): void {
    this.#closed = true;
    this.#settleDrainWaiters(err);
    this.#settleWritten();
  }

  /** True when nothing is held; otherwise arranges a 'drain' for when the binding's buffer empties. */
  #isWritten(): boolean {
    if (this.#closed || this.#control.closed) return true;
    return this.#out.length === 0 && !this.#blocked && this.#control.notifyWhenEmpty();
  }

  #onDrain(): void {
    this.#blocked = false;
    this.flush();
    if (this.#writtenWaiters.length > 0 && this.#isWritten()) this.#settleWritten();
    if (this.belowHighWaterMark) this.#settleDrainWaiters(undefined);
  }

  #settleWritten(): void {
    const waiters = this.#writtenWaiters;
    this.#writtenWaiters = [];
    for (const w of waiters) w();
  }

  #settleDrainWaiters(err: ClientError | undefined): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  }
}
