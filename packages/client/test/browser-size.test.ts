import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { bundleBrowser } from './bundle.js';

const BUDGET = 15 * 1024; // WebSocket client, min+gzip (issue 5)

test(`browser bundle: ESM, no Node built-ins, ≤ ${BUDGET / 1024} KB min+gzip`, async () => {
  const code = await bundleBrowser(); // platform 'browser': a node: import fails the build
  assert.doesNotMatch(code, /from\s*["'](node:|ws["'])/);
  assert.doesNotMatch(code, /require\(/);
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(`browser bundle: ${code.length} bytes minified, ${gz} bytes gzip`);
  assert.ok(gz <= BUDGET, `bundle is ${gz} bytes gzip, budget ${BUDGET}`);
});
