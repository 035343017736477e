#!/usr/bin/env node
// Builds the native QUIC addon from source (native/quic, Rust) and copies the library to
// packages/quic/native/fastpubsub_quic.<platform>-<arch>.node. Run by this package's
// "install" script, so `npm install` / `npm ci` at the repository root builds it.
// Installed from a tarball (no crate next to it), it keeps the addon shipped in the package.
// Needs cargo (Rust ≥ 1.85, the crate's rust-version); crates come from the Rust crate registry. Nothing prebuilt is
// downloaded. Env: CARGO_TARGET_DIR (default native/quic/target), FASTPUBSUB_QUIC_SKIP_BUILD=1
// to skip, FASTPUBSUB_QUIC_PROFILE=debug for a debug build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const crateDir = resolve(pkgDir, '../../native/quic');
const outDir = join(pkgDir, 'native');
const outFile = join(outDir, `fastpubsub_quic.${process.platform}-${process.arch}.node`);

if (process.env.FASTPUBSUB_QUIC_SKIP_BUILD === '1') {
  console.log('@fastpubsub/quic: FASTPUBSUB_QUIC_SKIP_BUILD=1, not building the native addon');
  process.exit(0);
}
if (!existsSync(join(crateDir, 'Cargo.toml'))) {
  // Installed from a tarball (`npm run pack`): the addon for the platform it was packed on is
  // inside the package; there are no Rust sources to build another one from.
  if (existsSync(outFile)) {
    console.log(`@fastpubsub/quic: using the addon shipped in the package (${outFile})`);
    process.exit(0);
  }
  console.error(`@fastpubsub/quic: no addon for ${process.platform}-${process.arch} in this package and no Rust sources at ${crateDir} to build one; pack it on this platform, or install from a repository checkout with cargo`);
  process.exit(1);
}
const cargo = process.env.CARGO ?? 'cargo';
const probe = spawnSync(cargo, ['--version'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error('@fastpubsub/quic: cargo not found. Install Rust (https://rustup.rs or the distribution\'s cargo package) and run `npm install` again.');
  process.exit(1);
}
const profile = process.env.FASTPUBSUB_QUIC_PROFILE === 'debug' ? 'debug' : 'release';
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(crateDir, 'target');
const args = ['build', '--manifest-path', join(crateDir, 'Cargo.toml'), '--locked'];
if (profile === 'release') args.push('--release');
console.log(`@fastpubsub/quic: ${cargo} ${args.join(' ')}`);
const build = spawnSync(cargo, args, { stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: targetDir } });
if (build.status !== 0) {
  console.error('@fastpubsub/quic: cargo build failed');
  process.exit(build.status ?? 1);
}
const libName = process.platform === 'win32' ? 'fastpubsub_quic.dll'
  : process.platform === 'darwin' ? 'libfastpubsub_quic.dylib' : 'libfastpubsub_quic.so';
const built = join(targetDir, profile, libName);
mkdirSync(outDir, { recursive: true });
// Copy then rename: never leave a half-written .node where a running process may load it.
copyFileSync(built, `${outFile}.tmp`);
renameSync(`${outFile}.tmp`, outFile);
console.log(`@fastpubsub/quic: built ${outFile}`);
