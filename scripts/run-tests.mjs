#!/usr/bin/env node
// The one test command.
//   node scripts/run-tests.mjs                 every node test (TypeScript sources through tsx and
//                                              the 'development' export condition, no build), then
//                                              each sdks/<lang>/test.sh, then the SDK conformance
//                                              suite for all SDKs (npm run sdk:conformance -- --sdk all)
//   node scripts/run-tests.mjs SUBSTRING...    only the node test files whose path contains one of them
//   node scripts/run-tests.mjs --node          every node test, nothing else
// SDK stages need `bash sdks/setup.sh` first (toolchains, dependencies, builds); a missing setup
// fails the run, it is never skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SETUP_HINT = 'if an SDK\'s dependencies or build are missing, run `bash sdks/setup.sh` first';

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

function nodeTests(filters) {
  const roots = ['packages', 'bench', 'sim', 'conformance'];
  const files = roots.flatMap((r) => walk(r, [])).sort()
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  if (files.length === 0) {
    console.error('run-tests: no test files matched');
    return 1;
  }
  const result = spawnSync(process.execPath, [
    '--conditions=development', '--import', 'tsx',
    '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=120000',
    ...files,
  ], { stdio: 'inherit' });
  return result.status ?? 1;
}

function sdkLanguages() {
  if (!existsSync('sdks')) return [];
  return readdirSync('sdks').filter((l) => statSync(join('sdks', l)).isDirectory()).sort();
}

function stage(name, command, args) {
  console.log(`\nrun-tests: ${name}: ${[command, ...args].join(' ')}`);
  const r = spawnSync(command, args, { stdio: 'inherit' });
  const status = r.error !== undefined ? 1 : (r.status ?? 1);
  if (r.error !== undefined) console.error(`run-tests: ${name}: ${r.error.message}`);
  return status;
}

const args = process.argv.slice(2);
const nodeOnly = args.includes('--node');
const filters = args.filter((a) => a !== '--node');
if (nodeOnly || filters.length > 0) process.exit(nodeTests(filters));

const failed = [];
if (nodeTests([]) !== 0) failed.push('node tests');
for (const lang of sdkLanguages()) {
  if (!existsSync(join('sdks', lang, 'driver'))) {
    // Conformance '--sdk all' runs every sdks/<lang> with a driver: without one it would be left out.
    console.error(`run-tests: sdks/${lang} has no conformance driver (sdks/${lang}/driver)`);
    failed.push(`sdks/${lang} (no driver)`);
  }
  const script = join('sdks', lang, 'test.sh');
  if (!existsSync(script)) {
    console.error(`run-tests: sdks/${lang} has no test.sh`);
    failed.push(`sdks/${lang} (no test.sh)`);
    continue;
  }
  if (stage(`sdks/${lang}`, 'bash', [script]) !== 0) {
    console.error(`run-tests: sdks/${lang}/test.sh failed — ${SETUP_HINT}`);
    failed.push(`sdks/${lang}/test.sh`);
  }
}
const conformance = ['--conditions=development', '--import', 'tsx', 'conformance/main.ts', '--sdk', 'all'];
if (stage('SDK conformance', process.execPath, conformance) !== 0) {
  console.error(`run-tests: the SDK conformance suite failed — ${SETUP_HINT}`);
  failed.push('SDK conformance (--sdk all)');
}
if (failed.length > 0) {
  console.error(`\nrun-tests: FAILED: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('\nrun-tests: node tests, SDK tests and SDK conformance passed');
