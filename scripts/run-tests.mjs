#!/usr/bin/env node
// Runs every test file with node's built-in test runner, from TypeScript sources (tsx) through
// the 'development' export condition, so no build is needed to test.
// Usage: node scripts/run-tests.mjs [path-substring ...]   (filters test files)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name === 'target') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const roots = ['packages', 'bench', 'sim'];
const filters = process.argv.slice(2);
const files = roots.flatMap((r) => walk(r, [])).sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, [
  '--conditions=development', '--import', 'tsx',
  '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=120000',
  ...files,
], { stdio: 'inherit' });
process.exit(result.status ?? 1);
