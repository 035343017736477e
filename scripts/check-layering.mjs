#!/usr/bin/env node
// The layering check of `npm run check`: runs the rules in .dependency-cruiser.cjs on the
// repository (must pass) and on scripts/layering-fixture, a miniature with deliberately wrong
// imports (must fail with exactly the expected violations), so rules that silently stop
// matching are caught too.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const config = fileURLToPath(new URL('../.dependency-cruiser.cjs', import.meta.url));
const depcruise = fileURLToPath(new URL('../node_modules/dependency-cruiser/bin/dependency-cruise.mjs', import.meta.url));

function cruise(cwd, targets) {
  const r = spawnSync(process.execPath, [depcruise, '--config', config, '--output-type', 'json', ...targets], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (r.stdout === '') throw new Error(`depcruise produced no output (status ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout).summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

const real = cruise(root, ['packages', 'sim', 'bench']);
if (real.length > 0) {
  console.error(`layering: ${real.length} violation(s) of .dependency-cruiser.cjs (see docs/architecture.md):`);
  for (const v of real) console.error(`  ${v}`);
  process.exit(1);
}

const expected = [
  'control-imports-only-core-wire-protocol: packages/control/src/index.ts → packages/relay/src/index.ts',
  'control-never-imports-relay: packages/control/src/index.ts → packages/relay/src/index.ts',
  'console-imports-only-client: packages/console/src/index.ts → packages/relay/src/index.ts',
  'console-reaches-no-relay-internals: packages/console/src/index.ts → packages/relay/src/index.ts',
  'fanout-is-a-core: packages/relay/src/fanout/index.ts → packages/relay/src/edge/ws/edge.ts',
  'pure-cores-do-no-io: packages/relay/src/fanout/index.ts → fs',
].sort();
const got = cruise(fileURLToPath(new URL('layering-fixture/', import.meta.url)), ['packages']).sort();
if (JSON.stringify(got) !== JSON.stringify(expected)) {
  console.error('layering: the rules no longer catch the fixture\'s wrong imports.');
  console.error(`  expected:\n    ${expected.join('\n    ')}\n  got:\n    ${got.join('\n    ') || '(none)'}`);
  process.exit(1);
}
console.log('layering: rules hold (and still reject the fixture\'s wrong imports)');
