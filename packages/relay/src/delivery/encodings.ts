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

  constructor(msg: DispatchMessage) {
    this.msg = msg;
  }

  /** The frame for (format, key), built by `build` the first time it is asked for. */
  get(format: string, key: string, build: (msg: DispatchMessage) => Uint8Array): Uint8Array {
    return this.find(format, key) ?? this.put(format, key, build(this.msg));
  }

  /** The frame already built for (format, key), if any; remembers it as the last hit. */
  find(format: string, key: string): Uint8Array | undefined {
    if (this.#last !== undefined && format === this.#lastFormat && key === this.#lastKey) return this.#last;
    if (this.#more === undefined) return undefined;
    // '\0' occurs neither in format names nor in valid patterns: an unambiguous map key.
    const frame = this.#more.get(`${format}\0${key}`);
    if (frame !== undefined) this.#remember(format, key, frame);
    return frame;
  }

  /** Stores the frame built for (format, key) and returns it. */
  put(format: string, key: string, frame: Uint8Array): Uint8Array {
    if (this.#last !== undefined) {
      this.#more ??= new Map([[`${this.#lastFormat}\0${this.#lastKey}`, this.#last]]);
      this.#more.set(`${format}\0${key}`, frame);
    }
    this.#remember(format, key, frame);
    return frame;
  }

  #remember(format: string, key: string, frame: Uint8Array): void {
    this.#lastFormat = format;
    this.#lastKey = key;
    this.#last = frame;
  }
}

/** The key for a pattern list ('\n' cannot occur in a valid pattern). */
export function patternsKey(patterns: readonly string[]): string {
  return patterns.length === 1 ? (patterns[0] as string) : patterns.join('\n');
}
