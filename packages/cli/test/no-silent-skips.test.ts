// A green run must mean every test ran: no test file skips itself (or a case) when a real
// component (a browser, a broker, etcd, root for namespaces) is missing; such tests fail with
// a message naming what to install instead. The one allowed skip below is the complement of a
// root-only case (its non-root behaviour), not a missing component.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ALLOWED = new Map([['bench/loss/loss.test.ts', 1]]);

function testFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'target' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) testFiles(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

test('no test skips itself', () => {
  const files = testFiles(ROOT);
  assert.ok(files.length > 50, `found ${files.length} test files`);
  const found: string[] = [];
  for (const file of files) {
    const rel = relative(ROOT, file);
    if (rel === 'packages/cli/test/no-silent-skips.test.ts') continue;
    const text = readFileSync(file, 'utf8');
    const skips = [...text.matchAll(/\{\s*skip\b|\bskip:\s|\bt\.skip\(|\btest\.skip\(|\bit\.skip\(|\bdescribe\.skip\(|\btodo:\s/g)].length;
    if (skips > (ALLOWED.get(rel) ?? 0)) found.push(`${rel}: ${skips}`);
  }
  assert.deepEqual(found, [], 'tests that can skip: make them fail naming the missing component');
});
