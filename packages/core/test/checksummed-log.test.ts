import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChecksummedLog, ErrorCode, isFpsError } from '@fastpubsub/core';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fps-log-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('appended records are replayed in order after a reopen', () =>
  withDir(async (dir) => {
    const { log, records } = await ChecksummedLog.open(dir, 'x.log');
    assert.deepEqual(records, []);
    await log.serial(() => log.append({ n: 1 }));
    await log.serial(() => log.append({ n: 2, s: 'two' }));
    assert.equal(log.lines, 2);
    await log.close();
    const again = await ChecksummedLog.open(dir, 'x.log');
    assert.deepEqual(again.records, [{ n: 1 }, { n: 2, s: 'two' }]);
    await again.log.close();
  }));

test('a torn or corrupted line is skipped; the others survive', () =>
  withDir(async (dir) => {
    const { log } = await ChecksummedLog.open(dir, 'x.log');
    await log.serial(() => log.append({ n: 1 }));
    await log.serial(() => log.append({ n: 2 }));
    await log.close();
    const path = join(dir, 'x.log');
    const [first, second] = (await readFile(path, 'utf8')).split('\n');
    // Flip one character inside the second record's JSON, then add a torn half line.
    await writeFile(path, `${first}\n${second!.replace('2', '3')}\n`);
    await appendFile(path, second!.slice(0, 10));
    const again = await ChecksummedLog.open(dir, 'x.log');
    assert.deepEqual(again.records, [{ n: 1 }]);
    await again.log.close();
  }));

test('rewrite replaces the log atomically; a leftover temp file is discarded unread', () =>
  withDir(async (dir) => {
    const { log } = await ChecksummedLog.open(dir, 'x.log');
    for (let n = 0; n < 5; n++) await log.serial(() => log.append({ n }));
    await log.serial(() => log.rewrite([{ n: 4 }]));
    assert.equal(log.lines, 1);
    await log.serial(() => log.append({ n: 5 }));
    await log.close();
    await writeFile(join(dir, 'x.log.tmp'), 'garbage from a compaction that died\n');
    const again = await ChecksummedLog.open(dir, 'x.log');
    assert.deepEqual(again.records, [{ n: 4 }, { n: 5 }]);
    await again.log.close();
  }));

test('after close, append fails with store_unavailable', () =>
  withDir(async (dir) => {
    const { log } = await ChecksummedLog.open(dir, 'x.log');
    await log.close();
    await assert.rejects(log.serial(() => log.append({ n: 1 })), (e: unknown) => isFpsError(e) && e.code === ErrorCode.StoreUnavailable);
  }));
