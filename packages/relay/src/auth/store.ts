import type { TokenRecord } from '@fastpubsub/protocol';

/**
 * Where token records live. The embedded store serves a single machine; the replicated (etcd)
 * store will implement the same interface.
 */
export interface TokenStore {
  get(id: string): Promise<TokenRecord | undefined>;
  /** Insert or replace the record with that id; durable when the promise resolves. */
  put(record: TokenRecord): Promise<void>;
  list?(): AsyncIterable<TokenRecord> | Promise<TokenRecord[]>;
  close(): Promise<void>;
}

/** For tests and `fastpubsub dev`: nothing survives the process. Records are copied both ways. */
export class MemoryTokenStore implements TokenStore {
  readonly #records = new Map<string, TokenRecord>();

  async get(id: string): Promise<TokenRecord | undefined> {
    const r = this.#records.get(id);
    return r === undefined ? undefined : structuredClone(r);
  }

  async put(record: TokenRecord): Promise<void> {
    this.#records.set(record.id, structuredClone(record));
  }

  async list(): Promise<TokenRecord[]> {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }

  async close(): Promise<void> {}
}
