// Single-machine token store: an append-only log of JSON lines, replayed on open.
// Crash safety: each line carries a checksum, so a torn last line (crash mid-append) is skipped;
// compaction writes a temp file, fsyncs it, renames it over the log and fsyncs the directory,
// so the log is always either the old or the new complete file. A leftover temp file is the
// trace of a compaction that died before its rename and is discarded unread.
// One process per directory: there is no lock file, the relay owns its data dir.

import { createHash } from 'node:crypto';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenStore } from './store.js';
import type { TokenRecord } from './types.js';

const LOG = 'tokens.log';
const TMP = 'tokens.log.tmp';
const DAY = 86_400_000;

export interface EmbeddedTokenStoreOptions {
  /** Clock for pruning; default Date.now. */
  now?: () => number;
  /** Records expired for longer than this are dropped on open and compaction; default 1 day. */
  pruneAfterMs?: number;
}

const checksum = (json: string): string => createHash('sha256').update(json).digest('hex').slice(0, 16);
const encodeLine = (r: TokenRecord): string => {
  const json = JSON.stringify(r);
  return `${checksum(json)} ${json}\n`;
};

function decodeLine(line: string): TokenRecord | undefined {
  const sp = line.indexOf(' ');
  if (sp !== 16) return undefined;
  const json = line.slice(sp + 1);
  if (checksum(json) !== line.slice(0, sp)) return undefined;
  try {
    const r = JSON.parse(json) as Partial<TokenRecord>;
    const ok =
      typeof r.id === 'string' && typeof r.secretHash === 'string' && typeof r.expiresAtMs === 'number' &&
      typeof r.right === 'object' && r.right !== null && typeof r.revoked === 'boolean';
    return ok ? (r as TokenRecord) : undefined;
  } catch {
    return undefined;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename durable. Some platforms cannot open a directory; that is best effort there.
  let h: FileHandle | undefined;
  try {
    h = await open(dir, 'r');
    await h.sync();
  } catch {
    /* not supported on this platform */
  } finally {
    await h?.close();
  }
}

export class EmbeddedTokenStore implements TokenStore {
  readonly #dir: string;
  readonly #now: () => number;
  readonly #pruneAfterMs: number;
  readonly #records = new Map<string, TokenRecord>();
  #log: FileHandle | undefined;
  #lines = 0;
  /** Serializes appends and compactions so lines never interleave. */
  #chain: Promise<void> = Promise.resolve();

  private constructor(dir: string, opts: EmbeddedTokenStoreOptions) {
    this.#dir = dir;
    this.#now = opts.now ?? Date.now;
    this.#pruneAfterMs = opts.pruneAfterMs ?? DAY;
  }

  static async open(dir: string, opts: EmbeddedTokenStoreOptions = {}): Promise<EmbeddedTokenStore> {
    const store = new EmbeddedTokenStore(dir, opts);
    await mkdir(dir, { recursive: true });
    await rm(join(dir, TMP), { force: true });
    let text = '';
    try {
      text = await readFile(join(dir, LOG), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      const r = line === '' ? undefined : decodeLine(line);
      if (r !== undefined) store.#records.set(r.id, r); // later lines supersede earlier ones
    }
    await store.#compact();
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
    const line = encodeLine(copy);
    const run = this.#chain.then(async () => {
      const log = this.#log;
      if (log === undefined) throw new FpsError(ErrorCode.StoreUnavailable, 'EmbeddedTokenStore is closed');
      await log.appendFile(line, 'utf8');
      await log.datasync();
      this.#records.set(copy.id, copy);
      this.#lines++;
      // Rewrites (refresh, revoke) and expired records accumulate; rewrite the log past a bound.
      if (this.#lines > 4 * this.#records.size + 1000) await this.#compact();
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.#chain;
    const log = this.#log;
    this.#log = undefined;
    await log?.close();
  }

  async #compact(): Promise<void> {
    const cutoff = this.#now() - this.#pruneAfterMs;
    for (const [id, r] of this.#records) if (r.expiresAtMs < cutoff) this.#records.delete(id);
    await this.#log?.close();
    this.#log = undefined;
    const tmpPath = join(this.#dir, TMP);
    const tmp = await open(tmpPath, 'w');
    try {
      let body = '';
      for (const r of this.#records.values()) body += encodeLine(r);
      await tmp.writeFile(body, 'utf8');
      await tmp.sync();
    } finally {
      await tmp.close();
    }
    await rename(tmpPath, join(this.#dir, LOG));
    await fsyncDir(this.#dir);
    this.#log = await open(join(this.#dir, LOG), 'a');
    this.#lines = this.#records.size;
  }
}
