// Idempotent publishes (HTTPS `Idempotency-Key`). The message id of such a publish is derived
// from (tenant, key) alone, so every PoP computes the same id for the same key; each PoP keeps
// the ids it has published or delivered for IDEMPOTENCY_WINDOW_MS and drops a repeat, whether
// it arrives at its HTTPS edge or over the mesh. Pure: the clock is a parameter.
import { createHash } from 'node:crypto';
import { FWD_ID_BYTES } from '@fastpubsub/wire';

export const IDEMPOTENCY_WINDOW_MS = 60_000;

/** The mesh-wide message id of an idempotent publish: SHA-256 over a domain tag, tenant and key. */
export function idempotentMessageId(tenant: string, key: string): Uint8Array {
  const h = createHash('sha256');
  h.update('fastpubsub/idempotency/v1\0', 'utf8');
  h.update(tenant, 'utf8');
  h.update('\0', 'utf8');
  h.update(key, 'utf8');
  return new Uint8Array(h.digest().subarray(0, FWD_ID_BYTES));
}

export interface IdempotencyWindowOptions {
  windowMs?: number;
  /** Upper bound on remembered ids; the oldest go first past it. */
  maxEntries?: number;
}

export class IdempotencyWindow {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  /** id (hex) → when first seen; insertion order is time order, so expiry stops at the first live one. */
  readonly #ids = new Map<string, number>();

  constructor(opts: IdempotencyWindowOptions = {}) {
    this.#windowMs = opts.windowMs ?? IDEMPOTENCY_WINDOW_MS;
    this.#maxEntries = opts.maxEntries ?? 200_000;
  }

  /** True if `idHex` was seen within the window (a repeat); otherwise records it. */
  seen(idHex: string, nowMs: number): boolean {
    this.#expire(nowMs);
    if (this.#ids.has(idHex)) return true;
    this.#ids.set(idHex, nowMs);
    if (this.#ids.size > this.#maxEntries) this.#ids.delete(this.#ids.keys().next().value as string);
    return false;
  }

  get size(): number {
    return this.#ids.size;
  }

  #expire(nowMs: number): void {
    for (const [id, at] of this.#ids) {
      if (nowMs - at < this.#windowMs) break;
      this.#ids.delete(id);
    }
  }
}
