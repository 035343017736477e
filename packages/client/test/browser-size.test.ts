import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { bundleBrowser, bundleBrowserSplit } from './bundle.js';

const BUDGET = 15 * 1024; // the entry every page loads, min+gzip

// One file (the lazy WebTransport transport inlined): browser-safe. Its size budget applies to
// what every page loads, checked on the split build below.
test('browser bundle: ESM, no Node built-ins', async () => {
  const code = await bundleBrowser(); // platform 'browser': a node: import fails the build
  assert.doesNotMatch(code, /from\s*["'](node:|ws["'])/);
  assert.doesNotMatch(code, /require\(/);
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(`browser bundle, one file with every transport: ${code.length} bytes minified, ${gz} bytes gzip`);
});

test(`browser bundle with WebTransport: the entry every page loads stays ≤ ${BUDGET / 1024} KB min+gzip; the transport is a lazy chunk`, async () => {
  const { entry, chunks } = await bundleBrowserSplit();
  // What every page loads: the entry and the chunks it imports statically.
  const eager = [...entry.matchAll(/from"\.\/([\w-]+\.js)"/g)].map((m) => chunks[m[1] as string] ?? '');
  const gz = gzipSync(entry, { level: 9 }).length + eager.reduce((n, c) => n + gzipSync(c, { level: 9 }).length, 0);
  const lazy = Object.entries(chunks).map(([name, code]) => `${name} ${gzipSync(code, { level: 9 }).length} B gzip`);
  console.log(`browser entry (with its static imports): ${gz} bytes gzip; lazy chunks: ${lazy.join(', ')}`);
  assert.ok(gz <= BUDGET, `entry is ${gz} bytes gzip, budget ${BUDGET}`);
  assert.ok(Object.values(chunks).some((c) => c.includes('/v1/webtransport')), 'the WebTransport transport is in a lazy chunk');
  assert.ok(!entry.includes('/v1/webtransport'), 'and not in the entry');
});
