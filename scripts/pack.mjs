#!/usr/bin/env node
// `npm run pack [-- --out DIR] [--no-build]`: writes an npm tarball of every public package
// (the SDK, the CLI with the relay and control plane, and every package they depend on) into
// DIR (default packs/). The tarballs install anywhere with plain `npm install <tarballs>`.
// The QUIC package ships the addon built for this platform (native/*.node), as registry
// packages with native code do; on other platforms its install step builds it from the Rust
// sources of a repository checkout.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `Usage: npm run pack -- [--out DIR] [--no-build]

Builds every package and writes one tarball per public package into DIR (default packs/).
  --out DIR    where the tarballs go
  --no-build   use the dist/ folders as they are
  -h, --help   this help
`;

/** Published packages, in dependency order. bench and the root are private. */
export const PUBLIC_PACKAGES = ['wire', 'core', 'protocol', 'quic', 'relay', 'control', 'client', 'console', 'testkit', 'cli'];

const root = resolve(new URL('..', import.meta.url).pathname);
let flags;
try {
  flags = parseArgs({ options: { out: { type: 'string' }, 'no-build': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
} catch (err) {
  process.stderr.write(`pack: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (flags.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const out = resolve(flags.out ?? join(root, 'packs'));

function run(command, args, what) {
  const r = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`pack: ${what} failed\n`);
    process.exit(r.status ?? 1);
  }
  return r.stdout;
}

if (!flags['no-build']) run(process.execPath, [join(root, 'scripts/build.mjs')], 'build');
const addon = join(root, 'packages/quic/native', `fastpubsub_quic.${process.platform}-${process.arch}.node`);
if (!existsSync(addon)) {
  process.stderr.write(`pack: the QUIC addon ${addon} is missing; build it with 'npm run build:native -w @fastpubsub/quic' (needs cargo)\n`);
  process.exit(1);
}
for (const name of PUBLIC_PACKAGES) {
  // The console is a static page (dist/index.html); every other package a module (dist/index.js).
  if (!existsSync(join(root, 'packages', name, 'dist/index.js')) && !existsSync(join(root, 'packages', name, 'dist/index.html'))) {
    process.stderr.write(`pack: packages/${name}/dist is missing; run npm run build\n`);
    process.exit(1);
  }
}

mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (f.startsWith('fastpubsub-') && f.endsWith('.tgz')) rmSync(join(out, f));
// Each tarball carries the licence text; the package folders do not keep a copy.
const copied = [];
try {
  for (const name of PUBLIC_PACKAGES) {
    const target = join(root, 'packages', name, 'LICENSE');
    if (!existsSync(target)) {
      copyFileSync(join(root, 'LICENSE'), target);
      copied.push(target);
    }
  }
  // `fastpubsub dev` needs its default topology inside the installed CLI package.
  const topologyDir = join(root, 'packages/cli/topologies');
  const topology = join(topologyDir, 'default.json');
  if (!existsSync(topologyDir)) {
    mkdirSync(topologyDir);
    copied.push(topologyDir);
    copyFileSync(join(root, 'topologies/default.json'), topology);
  }
  const args = ['pack', '--json', '--pack-destination', out, ...PUBLIC_PACKAGES.flatMap((n) => ['-w', `@fastpubsub/${n}`])];
  const packed = JSON.parse(run('npm', args, 'npm pack'));
  for (const p of packed) process.stdout.write(`${join(out, p.filename)}  (${p.name}@${p.version}, ${(p.size / 1024).toFixed(0)} KiB)\n`);
} finally {
  for (const f of copied) rmSync(f, { recursive: true, force: true });
}
const version = JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')).version;
process.stdout.write(`Install anywhere: npm install ${PUBLIC_PACKAGES.map((n) => join(out, `fastpubsub-${n}-${version}.tgz`)).join(' ')}\n`);
