// `npm run docs:api` builds: the SDK reference (TypeDoc) with the SDK's main entry points, and the
// control plane's and relay's OpenAPI documents as HTML with every route, loading nothing from
// outside (no remote scripts, stylesheets or images).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROUTES } from '@fastpubsub/control';
import { relayOpenapi } from '@fastpubsub/relay';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let out = '';
after(async () => {
  if (out !== '') await rm(out, { recursive: true, force: true });
});

function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? htmlFiles(join(dir, e.name)) : e.name.endsWith('.html') ? [join(dir, e.name)] : []));
}

test('npm run docs:api writes the SDK reference and the HTTP API pages', { timeout: 300_000 }, async () => {
  out = await mkdtemp(join(tmpdir(), 'fps-api-docs-'));
  const r = spawnSync('npm', ['run', 'docs:api', '--', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 280_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.ok(existsSync(join(out, 'index.html')));
  const sdkIndex = readFileSync(join(out, 'sdk/index.html'), 'utf8');
  for (const entry of ['index', 'node', 'admin', 'quic']) assert.match(sdkIndex, new RegExp(`>${entry}<`), `SDK entry point ${entry}`);
  const sdkPages = htmlFiles(join(out, 'sdk')).map((f) => f.slice(out.length));
  assert.ok(sdkPages.some((p) => /connect/i.test(p)), 'the SDK reference documents connect()');
  const control = readFileSync(join(out, 'control.html'), 'utf8');
  for (const route of ROUTES) assert.ok(control.includes(`${route.method}</span> <code>${route.path}</code>`), `control.html documents ${route.method} ${route.path}`);
  const relay = readFileSync(join(out, 'relay.html'), 'utf8');
  for (const path of Object.keys(relayOpenapi.paths)) assert.ok(relay.includes(`<code>${path}</code>`), `relay.html documents ${path}`);
  // Offline: nothing loaded from elsewhere.
  for (const file of htmlFiles(out)) {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /<(script|img|iframe)[^>]+src="(https?:)?\/\//i, file);
    assert.doesNotMatch(text, /<link[^>]+href="(https?:)?\/\/[^"]*"[^>]*>/i, file);
  }
});
