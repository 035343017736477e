// The embedded control store: one process, no extra service. An append-only log of JSON lines,
// each with a checksum so a torn last line (crash mid-append) is skipped on replay; compaction
// writes a temp file, fsyncs it, renames it over the log and fsyncs the directory (the house
// style of packages/relay/src/auth/embedded-store.ts). TTL records (the PoP registry) carry an
// absolute deadline and are swept by a timer, which emits their deletion like etcd's lease expiry.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import { KINDS, type Kind } from '../types.js';
import type { ControlStore, PutOptions, StoreChange } from './store.js';

const LOG = 'control.log';
const TMP = 'control.log.tmp';

interface Entry {
  k: Kind;
  id: string;
  v: unknown;
  /** Absolute expiry (ms) of a TTL record. */
  d?: number;
}

const checksum = (json: string): string => createHash('sha256').update(json).digest('hex').slice(0, 16);
const encode = (e: Entry | { k: Kind; id: string; v: null }): string => {
  const json = JSON.stringify(e);
  return `${checksum(json)} ${json}\n`;
};

function decode(line: string): (Entry & { v: unknown }) | undefined {
  if (line.indexOf(' ') !== 16) return undefined;
  const json = line.slice(17);
  if (checksum(json) !== line.slice(0, 16)) return undefined;
  try {
    const e = JSON.parse(json) as Entry;
    return typeof e.id === 'string' && KINDS.includes(e.k) ? e : undefined;
  } catch {
    return undefined;
  }
}

const keyOf = (k: Kind, id: string): string => `${k}\u0000${id}`;

async function fsyncDir(dir: string): Promise<void> {
  let h: FileHandle | undefined;
  try {
    h = await open(dir, 'r');
    await h.sync();
  } catch {
    /* best effort where directories cannot be opened */
  } finally {
    await h?.close();
  }
}

export class EmbeddedControlStore implements ControlStore {
  readonly kind = 'embedded' as const;
  readonly #dir: string;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(c: StoreChange) => void>();
  #log: FileHandle | undefined;
  #lines = 0;
  #rev = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #sweeper: NodeJS.Timeout | undefined;

  private constructor(dir: string, now: () => number) {
    this.#dir = dir;
    this.#now = now;
  }

  static async open(dir: string, opts: { now?: () => number; sweepMs?: number } = {}): Promise<EmbeddedControlStore> {
    const s = new EmbeddedControlStore(dir, opts.now ?? Date.now);
    await mkdir(dir, { recursive: true });
    await rm(join(dir, TMP), { force: true });
    let text = '';
    try {
      text = await readFile(join(dir, LOG), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      const e = line === '' ? undefined : decode(line);
      if (e === undefined) continue;
      s.#rev++;
      if (e.v === null) s.#entries.delete(keyOf(e.k, e.id));
      else s.#entries.set(keyOf(e.k, e.id), e);
    }
    const now = s.#now();
    for (const [k, e] of s.#entries) if (e.d !== undefined && e.d <= now) s.#entries.delete(k);
    await s.#compact();
    s.#sweeper = setInterval(() => void s.#sweep(), opts.sweepMs ?? 500);
    s.#sweeper.unref();
    return s;
  }

  async get<T>(kind: Kind, id: string): Promise<T | undefined> {
    this.#open();
    const e = this.#entries.get(keyOf(kind, id));
    if (e === undefined || (e.d !== undefined && e.d <= this.#now())) return undefined;
    return structuredClone(e.v) as T;
  }

  async list<T>(kind: Kind): Promise<Array<{ id: string; value: T }>> {
    this.#open();
    const now = this.#now();
    const out: Array<{ id: string; value: T }> = [];
    for (const e of this.#entries.values()) {
      if (e.k === kind && (e.d === undefined || e.d > now)) out.push({ id: e.id, value: structuredClone(e.v) as T });
    }
    return out;
  }

  put(kind: Kind, id: string, value: unknown, opts: PutOptions = {}): Promise<boolean> {
    return this.#serial(async () => {
      const log = this.#open();
      const cur = this.#entries.get(keyOf(kind, id));
      if (opts.ifAbsent === true && cur !== undefined && (cur.d === undefined || cur.d > this.#now())) return false;
      const e: Entry = { k: kind, id, v: structuredClone(value) };
      if (opts.ttlMs !== undefined) e.d = this.#now() + opts.ttlMs;
      await log.appendFile(encode(e), 'utf8');
      await log.datasync();
      this.#entries.set(keyOf(kind, id), e);
      this.#emit({ kind, id, value: structuredClone(e.v), rev: ++this.#rev });
      await this.#maybeCompact();
      return true;
    });
  }

  delete(kind: Kind, id: string): Promise<void> {
    return this.#serial(async () => {
      const log = this.#open();
      if (!this.#entries.has(keyOf(kind, id))) return;
      await log.appendFile(encode({ k: kind, id, v: null }), 'utf8');
      await log.datasync();
      this.#entries.delete(keyOf(kind, id));
      this.#emit({ kind, id, value: undefined, rev: ++this.#rev });
      await this.#maybeCompact();
    });
  }

  watch(listener: (c: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    await this.#chain.catch(() => undefined);
    const log = this.#log;
    this.#log = undefined;
    await log?.close();
  }

  #open(): FileHandle {
    if (this.#log === undefined) throw new FpsError(ErrorCode.StoreUnavailable, 'the embedded control store is closed');
    return this.#log;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #emit(c: StoreChange): void {
    for (const l of this.#listeners) {
      try {
        l(c);
      } catch {
        // a failing watcher must not fail the write that has already happened
      }
    }
  }

  async #sweep(): Promise<void> {
    const now = this.#now();
    const due = [...this.#entries.values()].filter((e) => e.d !== undefined && e.d <= now);
    for (const e of due) {
      await this.delete(e.k, e.id).catch(() => undefined);
    }
  }

  async #maybeCompact(): Promise<void> {
    this.#lines++;
    if (this.#lines > 4 * this.#entries.size + 1000) await this.#compact();
  }

  async #compact(): Promise<void> {
    await this.#log?.close();
    this.#log = undefined;
    const tmpPath = join(this.#dir, TMP);
    const tmp = await open(tmpPath, 'w');
    try {
      let body = '';
      for (const e of this.#entries.values()) body += encode(e);
      await tmp.writeFile(body, 'utf8');
      await tmp.sync();
    } finally {
      await tmp.close();
    }
    await rename(tmpPath, join(this.#dir, LOG));
    await fsyncDir(this.#dir);
    this.#log = await open(join(this.#dir, LOG), 'a');
    this.#lines = this.#entries.size;
  }
}
