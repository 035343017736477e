// A link's bounded send queue. Frames go straight to the QUIC stream while it accepts them;
// when the stream is above its high-water mark they wait here, and past `maxBytes` the oldest
// waiting frame is dropped (and counted): on a latency-first mesh a fresh message is worth
// more than a stale one, and one slow link must never grow memory without bound.
// Latest-mode channels (docs/latest-mode.md) push with a key: a waiting frame with the same key
// is replaced in place by the newer one (counted as superseded), so the queue holds at most the
// newest pending frame per key.
export interface SendSink {
  /** false: the sink is above its high-water mark (call again after 'drain'). */
  write(chunk: Uint8Array): boolean;
}

interface Waiting {
  frame: Uint8Array;
  key: string | undefined;
}

export class LinkSendQueue {
  readonly #maxBytes: number;
  #items: Waiting[] = [];
  readonly #byKey = new Map<string, Waiting>();
  #head = 0;
  #bytes = 0;
  #blocked = false;
  dropped = 0;
  droppedBytes = 0;
  superseded = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Writes now when possible, else queues (replacing a waiting frame of the same key, dropping the oldest past the bound). */
  push(sink: SendSink, frame: Uint8Array, key?: string): void {
    if (!this.#blocked && this.length === 0) {
      if (!sink.write(frame)) this.#blocked = true;
      return;
    }
    const waiting = key === undefined ? undefined : this.#byKey.get(key);
    if (waiting !== undefined) {
      this.#bytes += frame.length - waiting.frame.length;
      waiting.frame = frame;
      this.superseded++;
    } else {
      const w: Waiting = { frame, key };
      this.#items.push(w);
      if (key !== undefined) this.#byKey.set(key, w);
      this.#bytes += frame.length;
    }
    while (this.#bytes > this.#maxBytes && this.length > 1) {
      const old = this.#take();
      this.dropped++;
      this.droppedBytes += old.frame.length;
    }
    this.#compact();
  }

  /** The sink drained: write queued frames until it pushes back again. */
  drain(sink: SendSink): void {
    this.#blocked = false;
    while (this.length > 0) {
      if (!sink.write(this.#take().frame)) {
        this.#blocked = true;
        break;
      }
    }
    this.#compact();
  }

  #take(): Waiting {
    const w = this.#items[this.#head]!;
    this.#items[this.#head++] = EMPTY;
    this.#bytes -= w.frame.length;
    if (w.key !== undefined && this.#byKey.get(w.key) === w) this.#byKey.delete(w.key);
    return w;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

const EMPTY: Waiting = { frame: new Uint8Array(0), key: undefined };
