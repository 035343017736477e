// A single-machine, crash-safe record log: JSON lines, each prefixed with a checksum, appended
// with a datasync and replayed on open. A torn last line (a crash mid-append) fails its checksum
// and is skipped. rewrite() (compaction) writes a temp file, fsyncs it, renames it over the log
// and fsyncs the directory, so the log on disk is always either the old or the new complete
// file; a leftover temp file is the trace of a compaction that died before its rename and is
// discarded unread. One process per directory: there is no lock file.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, FpsError } from './errors.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, assertPrivate } from './private-files.js';

const CHECKSUM_CHARS = 16;
const checksum = (json: string): string => createHash('sha256').update(json).digest('hex').slice(0, CHECKSUM_CHARS);

/** One log line for a record: `<checksum> <json>\n`. */
function encodeLine(record: unknown): string {
  const json = JSON.stringify(record);
  return `${checksum(json)} ${json}\n`;
}

/** The record of a line, or undefined for a torn, corrupt or foreign line. */
function decodeLine(line: string): unknown {
  if (line.indexOf(' ') !== CHECKSUM_CHARS) return undefined;
  const json = line.slice(CHECKSUM_CHARS + 1);
  if (checksum(json) !== line.slice(0, CHECKSUM_CHARS)) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes a rename durable. Some platforms cannot open a directory: best effort there.
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

export class ChecksummedLog {
  readonly #dir: string;
  readonly #name: string;
  #file: FileHandle | undefined;
  #lines = 0;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, name: string) {
    this.#dir = dir;
    this.#name = name;
  }

  /**
   * Opens (creating) `dir/name` and returns the records of its intact lines, oldest first. The
   * caller replays them and should then rewrite() its live state to drop superseded lines.
   */
  static async open(dir: string, name: string): Promise<{ log: ChecksummedLog; records: unknown[] }> {
    const log = new ChecksummedLog(dir, name);
    // Stores hold token hashes and signing keys: private directory and file (private-files.ts).
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    await assertPrivate(dir, 'store directory');
    await assertPrivate(log.#path, 'store file');
    await rm(log.#tmpPath, { force: true });
    let text = '';
    try {
      text = await readFile(log.#path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const records: unknown[] = [];
    for (const line of text.split('\n')) {
      const r = line === '' ? undefined : decodeLine(line);
      if (r !== undefined) records.push(r);
    }
    log.#file = await open(log.#path, 'a', PRIVATE_FILE_MODE);
    log.#lines = records.length;
    return { log, records };
  }

  /** Lines appended since the last rewrite (or in the file at open): tells when to compact. */
  get lines(): number {
    return this.#lines;
  }

  /** Runs `fn` after every earlier one has settled, so appends and rewrites never interleave. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Appends one record durably. Call inside serial(). Throws StoreUnavailable once closed. */
  async append(record: unknown): Promise<void> {
    const file = this.#open();
    await file.appendFile(encodeLine(record), 'utf8');
    await file.datasync();
    this.#lines++;
  }

  /** Replaces the whole log with exactly these records, atomically. Call inside serial(). */
  async rewrite(records: Iterable<unknown>): Promise<void> {
    this.#open();
    await this.#file?.close();
    this.#file = undefined;
    const tmp = await open(this.#tmpPath, 'w', PRIVATE_FILE_MODE);
    let count = 0;
    try {
      let body = '';
      for (const r of records) {
        body += encodeLine(r);
        count++;
      }
      await tmp.writeFile(body, 'utf8');
      await tmp.sync();
    } finally {
      await tmp.close();
    }
    await rename(this.#tmpPath, this.#path);
    await fsyncDir(this.#dir);
    this.#file = await open(this.#path, 'a', PRIVATE_FILE_MODE);
    this.#lines = count;
  }

  /** Waits for pending work, then closes the file; later appends throw StoreUnavailable. */
  async close(): Promise<void> {
    await this.#chain.catch(() => undefined);
    const file = this.#file;
    this.#file = undefined;
    await file?.close();
  }

  get #path(): string {
    return join(this.#dir, this.#name);
  }

  get #tmpPath(): string {
    return join(this.#dir, `${this.#name}.tmp`);
  }

  #open(): FileHandle {
    if (this.#file === undefined) throw new FpsError(ErrorCode.StoreUnavailable, `${this.#name}: the store is closed`);
    return this.#file;
  }
}
