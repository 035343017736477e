// The console's pages are small: each page's bundle (the browser SDK included) and the
// basemap stay within a budget, checked on the real build (the one `npm run build` makes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DIST, buildConsole } from './helpers.js';

const BUDGETS: Record<string, number> = {
  'map.js': 20 * 1024, // min+gzip: the map page, its model and the WebSocket SDK
  'tenant.js': 30 * 1024, // min+gzip: the tenant console
  'basemap.svg': 30 * 1024, // gzip: the world's land at 1:110m
};

test('console build: ESM bundles with no Node built-ins, each within its gzip budget', () => {
  buildConsole();
  for (const [file, budget] of Object.entries(BUDGETS)) {
    const body = readFileSync(join(DIST, file));
    const text = body.toString('utf8');
    if (file.endsWith('.js')) {
      assert.doesNotMatch(text, /from\s*["']node:|require\(/, `${file} pulls in Node code`);
    }
    const gz = gzipSync(body, { level: 9 }).length;
    console.log(`console: ${file} ${body.length} bytes, ${gz} bytes gzip (budget ${budget})`);
    assert.ok(gz <= budget, `${file} is ${gz} bytes gzip, budget ${budget}`);
  }
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /https?:\/\//, 'the map page references nothing outside the console');
});
