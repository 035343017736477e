// The outbound batcher both sides of the QUIC edge share (the relay's subscription streams, the
// client's control stream): frames queued during one turn of the event loop are written together
// from one microtask, so a burst of messages becomes one write/writev per stream, never a promise,
// a timer or a write call per message. A microtask, not setImmediate or a timer: the write leaves
// in the same turn as the receive that caused it.
import type { QuicStream } from './stream.js';

export interface Flushable {
  flush(): void;
}

export class FlushBatcher {
  #pending: Flushable[] = [];
  #scheduled = false;

  /** Calls `f.flush()` once at the end of this turn (the caller enlists a stream once per turn). */
  enlist(f: Flushable): void {
    this.#pending.push(f);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#run);
    }
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    const list = this.#pending;
    this.#pending = [];
    for (const f of list) f.flush();
  };
}

/** One native call for a batch of frames; false when the stream's send buffer is at its high-water mark. */
export function writeFrames(stream: QuicStream, frames: readonly Uint8Array[]): boolean {
  return frames.length === 1 ? stream.write(frames[0] as Uint8Array) : stream.writev(frames);
}
