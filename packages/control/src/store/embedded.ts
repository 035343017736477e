// The embedded control store: one process, no extra service, on a ChecksummedLog
// (@fastpubsub/core: checksummed JSON lines, torn last line skipped on replay, atomic
// compaction). A deletion is a line with a null value. TTL records (the PoP registry) carry an
// absolute deadline and are swept by a timer, which emits their deletion like etcd's lease expiry.
import { ChecksummedLog, ErrorCode, FpsError } from '@fastpubsub/core';
import { KINDS, type Kind } from '../types.js';
import type { ControlStore, PutOptions, StoreChange } from './store.js';

const LOG = 'control.log';

interface Entry {
  k: Kind;
  id: string;
  v: unknown;
  /** Absolute expiry (ms) of a TTL record. */
  d?: number;
}

function isEntry(v: unknown): v is Entry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Partial<Entry>;
  return typeof e.id === 'string' && KINDS.includes(e.k as Kind) && 'v' in e;
}

const keyOf = (k: Kind, id: string): string => `${k}\u0000${id}`;

export class EmbeddedControlStore implements ControlStore {
  readonly kind = 'embedded' as const;
  readonly #log: ChecksummedLog;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(c: StoreChange) => void>();
  #rev = 0;
  #closed = false;
  #sweeper: NodeJS.Timeout | undefined;

  private constructor(log: ChecksummedLog, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  static async open(dir: string, opts: { now?: () => number; sweepMs?: number } = {}): Promise<EmbeddedControlStore> {
    const { log, records } = await ChecksummedLog.open(dir, LOG);
    const s = new EmbeddedControlStore(log, opts.now ?? Date.now);
    for (const e of records) {
      if (!isEntry(e)) continue;
      s.#rev++;
      if (e.v === null) s.#entries.delete(keyOf(e.k, e.id));
      else s.#entries.set(keyOf(e.k, e.id), e);
    }
    const now = s.#now();
    for (const [k, e] of s.#entries) if (e.d !== undefined && e.d <= now) s.#entries.delete(k);
    await log.serial(() => s.#compact());
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
    return this.#log.serial(async () => {
      this.#open();
      const cur = this.#entries.get(keyOf(kind, id));
      if (opts.ifAbsent === true && cur !== undefined && (cur.d === undefined || cur.d > this.#now())) return false;
      const e: Entry = { k: kind, id, v: structuredClone(value) };
      if (opts.ttlMs !== undefined) e.d = this.#now() + opts.ttlMs;
      await this.#log.append(e);
      this.#entries.set(keyOf(kind, id), e);
      this.#emit({ kind, id, value: structuredClone(e.v), rev: ++this.#rev });
      await this.#maybeCompact();
      return true;
    });
  }

  delete(kind: Kind, id: string): Promise<void> {
    return this.#log.serial(async () => {
      this.#open();
      if (!this.#entries.has(keyOf(kind, id))) return;
      await this.#log.append({ k: kind, id, v: null });
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
    this.#closed = true;
    await this.#log.close();
  }

  #open(): void {
    if (this.#closed) throw new FpsError(ErrorCode.StoreUnavailable, 'the embedded control store is closed');
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
    if (this.#log.lines > 4 * this.#entries.size + 1000) await this.#compact();
  }

  async #compact(): Promise<void> {
    await this.#log.rewrite(this.#entries.values());
  }

}
