// RLIMIT_NOFILE: the relay raises its soft limit to the hard limit at start. Checked in a real
// child process started by `prlimit` with a low soft limit, read back from the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptErrorLogger, readDescriptorLimits } from '../src/limits/index.js';

const LIMITS_MODULE = fileURLToPath(new URL('../src/limits/descriptors.ts', import.meta.url));

function inChild(soft: number, hard: number, script: string): string {
  return execFileSync('prlimit', [`--nofile=${soft}:${hard}`, '--', process.execPath, '--conditions=development', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
}

test('raiseDescriptorLimit lifts a low soft limit to the hard limit, as the kernel reports it', () => {
  // Node itself raises the soft limit at start-up, so the child lowers its own first.
  const script = [
    `import { execFileSync } from 'node:child_process';`,
    `import { raiseDescriptorLimit } from ${JSON.stringify(LIMITS_MODULE)};`,
    `execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=300:4000']);`,
    `console.log(JSON.stringify(raiseDescriptorLimit()));`,
  ].join('\n');
  const report = JSON.parse(inChild(300, 4000, script)) as { before: { soft: number; hard: number }; after: { soft: number; hard: number }; failure?: string };
  assert.deepEqual(report.before, { soft: 300, hard: 4000 });
  assert.deepEqual(report.after, { soft: 4000, hard: 4000 });
  assert.equal(report.failure, undefined);
});

test('raiseDescriptorLimit leaves equal limits alone and reports no failure', () => {
  const script = `import { raiseDescriptorLimit } from ${JSON.stringify(LIMITS_MODULE)}; console.log(JSON.stringify(raiseDescriptorLimit()));`;
  const report = JSON.parse(inChild(2000, 2000, script)) as { before: unknown; after: unknown; failure?: string };
  assert.deepEqual(report.after, { soft: 2000, hard: 2000 });
  assert.equal(report.failure, undefined);
});

test('readDescriptorLimits parses /proc limits, "unlimited" included, and refuses garbage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fps-limits-'));
  try {
    const file = join(dir, 'limits');
    writeFileSync(file, 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 unlimited            files\n');
    assert.deepEqual(readDescriptorLimits(file), { soft: 1024, hard: Number.POSITIVE_INFINITY });
    writeFileSync(file, 'Max open files            lots                 many                 files\n');
    assert.equal(readDescriptorLimits(file), undefined);
    assert.equal(readDescriptorLimits(join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const own = readDescriptorLimits();
  assert.ok(own !== undefined && own.soft > 0 && own.soft <= own.hard);
});

test('acceptErrorLogger names EMFILE as running out of descriptors, once per interval', () => {
  const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
  const onError = acceptErrorLogger({ error: (msg, fields) => logged.push(fields === undefined ? { msg } : { msg, fields }) }, 60_000);
  const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
  onError(emfile);
  onError(emfile);
  assert.equal(logged.length, 1);
  assert.match(logged[0]!.msg, /out of file descriptors/);
  assert.equal(logged[0]!.fields?.code, 'EMFILE');
});
