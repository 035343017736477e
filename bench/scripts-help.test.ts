// Every benchmark and simulation script of the root package.json answers --help with its usage
// and exit 0, quickly, without running anything or writing any file (`npm run sim` would
// otherwise rewrite docs/routing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const names = Object.keys(scripts).filter((n) => n === 'sim' || n.startsWith('bench:'));

/** Modification times of the files a script could write: the docs and the benchmark results. */
function snapshot(): Map<string, number> {
  const files = new Map<string, number>();
  for (const dir of ['docs', 'bench/results']) {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = join(ROOT, dir, name);
      files.set(path, statSync(path).mtimeMs);
    }
  }
  return files;
}

test('the script list covers the simulator and the benchmarks', () => {
  assert.ok(names.includes('sim') && names.includes('bench:failover') && names.length >= 6, names.join(', '));
});

for (const name of names) {
  test(`npm run ${name} -- --help prints usage, exits 0 and writes nothing`, () => {
    const [command, ...args] = scripts[name]!.split(' ');
    assert.equal(command, 'node', `${name} runs node directly`);
    const before = snapshot();
    const started = Date.now();
    const r = spawnSync(process.execPath, [...args, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `${name}: exit ${String(r.status)}; stderr: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: npm run /m, name);
    assert.ok(r.stdout.includes(`npm run ${name}`), `${name}'s usage names itself`);
    assert.ok(Date.now() - started < 25_000, 'answers without running the benchmark');
    assert.deepEqual(snapshot(), before, `${name} --help wrote files`);
  });
}
