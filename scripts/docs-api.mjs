// `npm run docs:api`: the API reference in api-docs/ (gitignored): the TypeScript SDK's
// reference from its types (TypeDoc) and the control plane's and the relay's OpenAPI documents
// rendered to static HTML (scripts/openapi-html.mjs). Nothing is fetched from the network.
// Run with the development condition (package.json does) so the OpenAPI documents come from sources.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openapi, ROUTES } from '@fastpubsub/control';
import { relayOpenapi } from '@fastpubsub/relay';
import { renderOpenapi } from './openapi-html.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write('Usage: npm run docs:api [-- --out DIR]\n\nWrites api-docs/ (or DIR): sdk/ (TypeDoc reference of @fastpubsub/client), control.html and relay.html\n(the OpenAPI documents as HTML) and index.html.\n');
  process.exit(0);
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFlag = process.argv.indexOf('--out');
const OUT = outFlag > 0 && process.argv[outFlag + 1] !== undefined ? process.argv[outFlag + 1] : join(ROOT, 'api-docs');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

const client = join(ROOT, 'packages/client');
const typedoc = spawnSync(
  process.execPath,
  [
    join(ROOT, 'node_modules/typedoc/bin/typedoc'),
    '--tsconfig', join(client, 'tsconfig.build.json'),
    '--entryPoints', join(client, 'src/index.ts'),
    '--entryPoints', join(client, 'src/node.ts'),
    '--entryPoints', join(client, 'src/admin.ts'),
    '--entryPoints', join(client, 'src/quic.ts'),
    '--name', '@fastpubsub/client',
    '--readme', 'none',
    '--treatWarningsAsErrors', 'false',
    '--out', join(OUT, 'sdk'),
  ],
  { cwd: ROOT, stdio: 'inherit', timeout: 300_000 },
);
if (typedoc.status !== 0) {
  process.stderr.write(`docs:api: typedoc failed (exit ${String(typedoc.status)})\n`);
  process.exit(1);
}

const authOf = new Map(ROUTES.map((r) => [`${r.method} ${r.path}`, r.auth]));
const AUTH_TEXT = { operator: 'operator token', tenant: 'operator token or the tenant\'s master token', pop: 'operator or PoP token', none: 'none' };
writeFileSync(join(OUT, 'control.html'), renderOpenapi(openapi, { auth: (m, p) => AUTH_TEXT[authOf.get(`${m} ${p}`)] }));
writeFileSync(join(OUT, 'relay.html'), renderOpenapi(relayOpenapi));
writeFileSync(
  join(OUT, 'index.html'),
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>FastPubSub API reference</title></head><body style="font:15px/1.5 system-ui,sans-serif;max-width:720px;margin:2em auto">
<h1>FastPubSub API reference</h1>
<ul>
<li><a href="sdk/index.html">TypeScript SDK (@fastpubsub/client)</a></li>
<li><a href="control.html">Control plane HTTP API</a></li>
<li><a href="relay.html">Relay HTTP API</a></li>
</ul></body></html>
`,
);
process.stdout.write(`docs:api: wrote ${OUT}/index.html, sdk/, control.html, relay.html\n`);
