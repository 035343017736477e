// Streaming decoder for native frames: a byte state machine that resumes at any byte boundary
// (STYLE.md §1). Frames wholly inside one chunk are handed out as views of that chunk; only a
// frame that spans chunks is copied, into one buffer of exactly its declared size, allocated
// after the header's lengths passed the limits.
import { MAX_FRAME_PAYLOAD, WireError, isWireError } from '../errors.js';
import { decodeUtf8 } from '../utf8.js';
import { HEADER_SIZE, isFrameType, readHeader, type Frame, type FrameType, type DecodeFrameOptions } from './frame.js';

export type FrameDecoderOptions<T extends number = FrameType> = DecodeFrameOptions<T>;

export class FrameDecoder<T extends number = FrameType> {
  readonly #maxPayload: number;
  readonly #accept: (t: number) => t is T;
  readonly #header = new Uint8Array(HEADER_SIZE);
  #headerFill = 0;
  // Set while a frame's body (topic + payload) spans chunks.
  #body: Uint8Array | null = null;
  #bodyFill = 0;
  #type = 0 as T;
  #topicLen = 0;
  #error: WireError | null = null;

  constructor(options?: FrameDecoderOptions<T>) {
    this.#maxPayload = options?.maxPayload ?? MAX_FRAME_PAYLOAD;
    this.#accept = options?.acceptType ?? (isFrameType as unknown as (t: number) => t is T);
  }

  /** The error that failed this decoder, if any; every later push/feed throws it again. */
  get error(): WireError | null {
    return this.#error;
  }

  /** Bytes held for an incomplete frame (header and body so far). */
  get bufferedBytes(): number {
    return this.#headerFill + this.#bodyFill;
  }

  /** Size of the buffer allocated for a frame spanning chunks (its declared body size), or 0. */
  get reservedBytes(): number {
    return this.#body?.length ?? 0;
  }

  /**
   * Decodes `chunk`, returning the frames it completes. On a protocol error the frames that
   * preceded it in the same chunk are lost; use feed() to receive them before the throw.
   */
  push(chunk: Uint8Array): Frame<T>[] {
    const out: Frame<T>[] = [];
    this.feed(chunk, (f) => out.push(f));
    return out;
  }

  /**
   * Calls `onFrame` for each frame `chunk` completes, in order, then returns. Throws a
   * WireError (bad_frame, payload_too_large) after delivering every frame before the fault;
   * the decoder then stays failed. An exception from `onFrame` propagates too; the rest of the
   * chunk is then undecoded, so the decoder fails with bad_frame rather than lose sync.
   */
  feed(chunk: Uint8Array, onFrame: (frame: Frame<T>) => void): void {
    if (this.#error !== null) throw this.#error;
    let completed = false;
    try {
      this.#feed(chunk, onFrame);
      completed = true;
    } finally {
      if (!completed && this.#error === null) {
        this.#error = new WireError('bad_frame', 'frame decoder abandoned: a frame handler threw mid-chunk');
      }
    }
  }

  #feed(chunk: Uint8Array, onFrame: (frame: Frame<T>) => void): void {
    let off = 0;
    const end = chunk.length;
    while (off < end) {
      if (this.#body !== null) {
        const body = this.#body;
        const n = Math.min(body.length - this.#bodyFill, end - off);
        body.set(chunk.subarray(off, off + n), this.#bodyFill);
        this.#bodyFill += n;
        off += n;
        if (this.#bodyFill < body.length) return;
        this.#body = null;
        this.#bodyFill = 0;
        onFrame(this.#emit(this.#type, body, 0, this.#topicLen, body.length));
        continue;
      }
      let type: T;
      let topicLen: number;
      let payloadLen: number;
      if (this.#headerFill === 0 && end - off >= HEADER_SIZE) {
        [type, topicLen, payloadLen] = this.#readHeader(chunk, off);
        off += HEADER_SIZE;
      } else {
        const n = Math.min(HEADER_SIZE - this.#headerFill, end - off);
        this.#header.set(chunk.subarray(off, off + n), this.#headerFill);
        this.#headerFill += n;
        off += n;
        if (this.#headerFill < HEADER_SIZE) return;
        this.#headerFill = 0;
        [type, topicLen, payloadLen] = this.#readHeader(this.#header, 0);
      }
      const bodyLen = topicLen + payloadLen;
      if (end - off >= bodyLen) {
        const frame = this.#emit(type, chunk, off, off + topicLen, off + bodyLen);
        off += bodyLen;
        onFrame(frame);
        continue;
      }
      this.#type = type;
      this.#topicLen = topicLen;
      this.#body = new Uint8Array(bodyLen);
      this.#bodyFill = 0;
    }
  }

  #readHeader(buf: Uint8Array, off: number): [T, number, number] {
    try {
      return readHeader(buf, off, this.#maxPayload, this.#accept);
    } catch (err) {
      throw this.#fail(err);
    }
  }

  #emit(type: T, buf: Uint8Array, start: number, topicEnd: number, end: number): Frame<T> {
    let topic: string;
    try {
      topic = topicEnd === start ? '' : decodeUtf8(buf, start, topicEnd, 'topic');
    } catch (err) {
      throw this.#fail(err);
    }
    return { type, topic, payload: buf.subarray(topicEnd, end) };
  }

  #fail(err: unknown): unknown {
    // Only WireErrors come from readHeader/decodeUtf8; anything else is a bug and propagates.
    if (isWireError(err)) this.#error = err;
    return err;
  }
}
