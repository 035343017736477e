#!/usr/bin/env node
// Builds every TypeScript package to its dist/ in dependency order (wire → core → protocol → quic →
// relay → client → testkit → cli). Each package's tsconfig.build.json resolves sibling packages through
// their built declarations, so the order matters. The native QUIC addon is built by its own
// package's install step, not here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const order = ['wire', 'core', 'protocol', 'quic', 'relay', 'control', 'client', 'testkit', 'cli', 'console'];
const tsc = new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname;
for (const name of order) {
  const project = `packages/${name}/tsconfig.build.json`;
  if (!existsSync(project)) continue;
  if (!readdirSync(`packages/${name}/src`).some((f) => f.endsWith('.ts'))) continue; // not started yet
  const result = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build: packages/${name} failed`);
    process.exit(result.status ?? 1);
  }
}
// The web console is a browser app: one esbuild bundle per page plus the basemap (its own script).
const consoleBuild = spawnSync(process.execPath, ['packages/console/scripts/build.mjs'], { stdio: 'inherit' });
if (consoleBuild.status !== 0) {
  console.error('build: packages/console failed');
  process.exit(consoleBuild.status ?? 1);
}
