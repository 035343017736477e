// Retained messages (MQTT §3.3.1.3), in memory, bounded in count and bytes for the whole
// relay. A retained PUBLISH replaces the channel's message; an empty one clears it. When a
// new message does not fit, it is refused (counted by the caller), never an older one evicted:
// what a subscriber sees must not depend on unrelated traffic.
import { matchesPattern } from '../../fanout/index.js';

export interface RetainedMessage {
  readonly channel: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
}

export type RetainResult = 'stored' | 'cleared' | 'full';

export class RetainedStore {
  readonly #byTenant = new Map<string, Map<string, RetainedMessage>>();
  readonly #maxCount: number;
  readonly #maxBytes: number;
  #count = 0;
  #bytes = 0;

  constructor(maxCount: number, maxBytes: number) {
    this.#maxCount = maxCount;
    this.#maxBytes = maxBytes;
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  set(tenant: string, channel: string, payload: Uint8Array, qos: 0 | 1): RetainResult {
    let channels = this.#byTenant.get(tenant);
    const old = channels?.get(channel);
    if (payload.byteLength === 0) {
      if (old !== undefined && channels !== undefined) {
        channels.delete(channel);
        if (channels.size === 0) this.#byTenant.delete(tenant);
        this.#count--;
        this.#bytes -= old.payload.byteLength;
      }
      return 'cleared';
    }
    const count = this.#count + (old === undefined ? 1 : 0);
    const bytes = this.#bytes - (old?.payload.byteLength ?? 0) + payload.byteLength;
    if (count > this.#maxCount || bytes > this.#maxBytes) return 'full';
    if (channels === undefined) this.#byTenant.set(tenant, (channels = new Map<string, RetainedMessage>()));
    channels.set(channel, { channel, payload: Buffer.from(payload), qos });
    this.#count = count;
    this.#bytes = bytes;
    return 'stored';
  }

  /** The retained messages of a tenant whose channel `pattern` matches. */
  match(tenant: string, pattern: string): RetainedMessage[] {
    const channels = this.#byTenant.get(tenant);
    if (channels === undefined) return [];
    const out: RetainedMessage[] = [];
    for (const m of channels.values()) if (matchesPattern(pattern, m.channel)) out.push(m);
    return out;
  }
}
