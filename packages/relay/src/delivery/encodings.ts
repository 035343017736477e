// Per-publish memo of encoded frames: a frame is built once per distinct (format, key) — key
// being what varies between sinks, e.g. the joined pattern list of a WebSocket delivery — and
// the very same bytes are written to every sink (STYLE.md #3). The last hit is kept outside the
// map because in the common case every sink asks for the same thing.
import type { DispatchMessage, EncodingCache } from './types.js';

export class Encodings implements EncodingCache {
  readonly msg: DispatchMessage;
  #lastFormat = '';
  #lastKey = '';
  #last: Uint8Array | undefined;
  #more: Map<string, Uint8Array> | undefined;
  #partFormat = '';
  #part: Uint8Array | undefined;

  constructor(msg: DispatchMessage) {
    this.msg = msg;
  }

  /** The frame for (format, key), built by `build` the first time it is asked for. */
  get(format: string, key: string, build: (msg: DispatchMessage) => Uint8Array): Uint8Array {
    if (this.#last !== undefined && format === this.#lastFormat && key === this.#lastKey) return this.#last;
    // '\0' occurs neither in format names nor in valid patterns: an unambiguous map key.
    const mapKey = `${format}\0${key}`;
    let frame = this.#more?.get(mapKey);
    if (frame === undefined) {
      frame = build(this.msg);
      if (this.#last !== undefined) {
        this.#more ??= new Map([[`${this.#lastFormat}\0${this.#lastKey}`, this.#last]]);
        this.#more.set(mapKey, frame);
      }
    }
    this.#lastFormat = format;
    this.#lastKey = key;
    this.#last = frame;
    return frame;
  }

  /**
   * A part shared by every frame of one format (e.g. the WebSocket delivery head, before the
   * per-sink pattern list), built once per publish. One slot: one format uses it at a time.
   */
  part(format: string, build: (msg: DispatchMessage) => Uint8Array): Uint8Array {
    if (this.#part === undefined || this.#partFormat !== format) {
      this.#part = build(this.msg);
      this.#partFormat = format;
    }
    return this.#part;
  }
}

/** The key for a pattern list ('\n' cannot occur in a valid pattern). */
export function patternsKey(patterns: readonly string[]): string {
  return patterns.length === 1 ? (patterns[0] as string) : patterns.join('\n');
}
