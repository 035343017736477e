// A link's bounded send queue. Frames go straight to the QUIC stream while it accepts them;
// when the stream is above its high-water mark they wait here, and past `maxBytes` the oldest
// waiting frame is dropped (and counted): on a latency-first mesh a fresh message is worth
// more than a stale one, and one slow link must never grow memory without bound.
export interface SendSink {
  /** false: the sink is above its high-water mark (call again after 'drain'). */
  write(chunk: Uint8Array): boolean;
}

export class LinkSendQueue {
  readonly #maxBytes: number;
  readonly #items: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  #blocked = false;
  dropped = 0;
  droppedBytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Writes now when possible, else queues (dropping the oldest past the bound). */
  push(sink: SendSink, frame: Uint8Array): void {
    if (!this.#blocked && this.length === 0) {
      if (!sink.write(frame)) this.#blocked = true;
      return;
    }
    this.#items.push(frame);
    this.#bytes += frame.length;
    while (this.#bytes > this.#maxBytes && this.length > 1) {
      const old = this.#items[this.#head]!;
      this.#items[this.#head++] = EMPTY;
      this.#bytes -= old.length;
      this.dropped++;
      this.droppedBytes += old.length;
    }
    this.#compact();
  }

  /** The sink drained: write queued frames until it pushes back again. */
  drain(sink: SendSink): void {
    this.#blocked = false;
    while (this.length > 0) {
      const f = this.#items[this.#head]!;
      this.#items[this.#head++] = EMPTY;
      this.#bytes -= f.length;
      if (!sink.write(f)) {
        this.#blocked = true;
        break;
      }
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
