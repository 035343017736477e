// Single-machine token store on a ChecksummedLog (@fastpubsub/core): every put appends the
// record durably; later lines supersede earlier ones on replay; the log is rewritten (compacted)
// on open and once rewrites and expired records pile up. See ChecksummedLog for crash safety.
// One process per directory: there is no lock file, the relay owns its data dir.

import { ChecksummedLog } from '@fastpubsub/core';
import type { TokenStore } from './store.js';
import type { TokenRecord } from '@fastpubsub/protocol';

const LOG = 'tokens.log';
const DAY = 86_400_000;

export interface EmbeddedTokenStoreOptions {
  /** Clock for pruning; default Date.now. */
  now?: () => number;
  /** Records expired for longer than this are dropped on open and compaction; default 1 day. */
  pruneAfterMs?: number;
}

function isTokenRecord(v: unknown): v is TokenRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<TokenRecord>;
  return (
    typeof r.id === 'string' && typeof r.secretHash === 'string' && typeof r.expiresAtMs === 'number' &&
    typeof r.right === 'object' && r.right !== null && typeof r.revoked === 'boolean'
  );
}

export class EmbeddedTokenStore implements TokenStore {
  readonly #log: ChecksummedLog;
  readonly #now: () => number;
  readonly #pruneAfterMs: number;
  readonly #records = new Map<string, TokenRecord>();

  private constructor(log: ChecksummedLog, opts: EmbeddedTokenStoreOptions) {
    this.#log = log;
    this.#now = opts.now ?? Date.now;
    this.#pruneAfterMs = opts.pruneAfterMs ?? DAY;
  }

  static async open(dir: string, opts: EmbeddedTokenStoreOptions = {}): Promise<EmbeddedTokenStore> {
    const { log, records } = await ChecksummedLog.open(dir, LOG);
    const store = new EmbeddedTokenStore(log, opts);
    for (const r of records) if (isTokenRecord(r)) store.#records.set(r.id, r); // later lines supersede earlier ones
    await log.serial(() => store.#compact());
    return store;
  }

  /** Number of records held (after pruning). */
  get size(): number {
    return this.#records.size;
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    const r = this.#records.get(id);
    return r === undefined ? undefined : structuredClone(r);
  }

  async list(): Promise<TokenRecord[]> {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }

  put(record: TokenRecord): Promise<void> {
    const copy = structuredClone(record);
    return this.#log.serial(async () => {
      await this.#log.append(copy);
      this.#records.set(copy.id, copy);
      // Rewrites (refresh, revoke) and expired records accumulate; rewrite the log past a bound.
      if (this.#log.lines > 4 * this.#records.size + 1000) await this.#compact();
    });
  }

  close(): Promise<void> {
    return this.#log.close();
  }

  async #compact(): Promise<void> {
    const cutoff = this.#now() - this.#pruneAfterMs;
    for (const [id, r] of this.#records) if (r.expiresAtMs < cutoff) this.#records.delete(id);
    await this.#log.rewrite(this.#records.values());
  }
}
