// The user guides stay complete and speak of the product: docs/troubleshooting.md has a row for
// every error code of the relay/control plane (ErrorCode) and of the SDK (ClientErrorCode); the
// README's docs table lists the guides; no document speaks of how the work was organised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '@fastpubsub/core';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The SDK's codes: ClientErrorCode is a type, so they are read from its declaration. */
function clientErrorCodes(): string[] {
  const source = read('packages/client/src/errors.ts');
  const union = /export type ClientErrorCode =([\s\S]*?);/.exec(source)?.[1];
  assert.ok(union !== undefined, 'ClientErrorCode found');
  return [...union.matchAll(/\|\s*'([a-z_]+)'/g)].map((m) => m[1]!);
}

function rowCodes(markdown: string, heading: string): Set<string> {
  const start = markdown.indexOf(heading);
  assert.ok(start >= 0, `section ${heading}`);
  const next = markdown.indexOf('\n## ', start + heading.length);
  const section = markdown.slice(start, next < 0 ? undefined : next);
  return new Set([...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!));
}

test('troubleshooting.md has a cause-and-fix row for every relay and control-plane error code', () => {
  const rows = rowCodes(read('docs/troubleshooting.md'), '## Codes from relays and the control plane');
  const codes = Object.values(ErrorCode);
  assert.ok(codes.length >= 20);
  assert.deepEqual(codes.filter((c) => !rows.has(c)), [], 'codes without a row');
  assert.deepEqual([...rows].filter((c) => !(codes as string[]).includes(c)), [], 'rows for codes that do not exist');
});

test('troubleshooting.md has a row for every SDK error code', () => {
  const rows = rowCodes(read('docs/troubleshooting.md'), '## Codes from the SDK');
  const codes = clientErrorCodes();
  assert.ok(codes.length >= 14, codes.join());
  assert.deepEqual(codes.filter((c) => !rows.has(c)), [], 'codes without a row');
  assert.deepEqual([...rows].filter((c) => !codes.includes(c)), [], 'rows for codes that do not exist');
});

test('the README lists the guides, and their links resolve', () => {
  const readme = read('README.md');
  for (const doc of ['docs/getting-started.md', 'docs/troubleshooting.md']) assert.ok(readme.includes(`| \`${doc}\` |`), doc);
  for (const doc of ['getting-started.md', 'troubleshooting.md']) {
    for (const m of read(`docs/${doc}`).matchAll(/\]\(([a-z-]+\.md)\)/g)) {
      assert.ok(readdirSync(join(ROOT, 'docs')).includes(m[1]!), `${doc} links to docs/${m[1]!}`);
    }
  }
});

test('no document speaks of issues, must-shows or briefs', () => {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const internal = /\bissue \d+|\bissue's\b|\bthe issue\b|must-show|\bthe brief\b/i;
  const offending = files.flatMap((f) =>
    read(f)
      .split('\n')
      .map((line, i) => ({ where: `${f}:${i + 1}`, line }))
      .filter(({ line }) => internal.test(line)),
  );
  assert.deepEqual(offending, []);
});
