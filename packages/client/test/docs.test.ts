// The examples in README.md and docs/sdk.md run as written: each block marked
// `<!-- example:node -->` or `<!-- example:browser -->` is extracted and run against a real relay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '../src/node.js';
import { bundleBrowser } from './bundle.js';
import { CHROMIUM, launchChromium, serve } from './browser-helpers.js';
import { makeToken, startTestRelay } from './helpers.js';

const DOCS = ['README.md', 'docs/sdk.md'];

export function extractExamples(markdown: string, kind: string): string[] {
  const re = new RegExp(`<!-- example:${kind} -->\\s*\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``, 'g');
  return [...markdown.matchAll(re)].map((m) => m[1]!);
}

for (const name of DOCS) {
const doc = readFileSync(fileURLToPath(new URL(`../../../${name}`, import.meta.url)), 'utf8');

test(`${name} Node example runs as written`, async (t) => {
  const [code] = extractExamples(doc, 'node');
  assert.ok(code !== undefined, 'no Node example found');
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl, { tenant: 'demo', pub: ['chat.#'], sub: ['chat.#'] });
  // Written inside the package so that '@fastpubsub/client/node' resolves like in an app.
  const file = fileURLToPath(new URL(`./.doc-example-${process.pid}.mjs`, import.meta.url));
  writeFileSync(file, code);
  t.after(() => rmSync(file, { force: true }));
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', file], {
    env: { ...process.env, FASTPUBSUB_URL: r.relay.httpUrl, FASTPUBSUB_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code_ = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  assert.equal(code_, 0, err);
  assert.equal(out, 'chat.room1 hello\n');
  assert.match(err, /state: closed/);
});

test(`${name} browser example runs as written in headless Chromium`, async (t) => {
  assert.ok(existsSync(CHROMIUM), '/usr/bin/chromium is missing: apt-get install chromium (this test drives a real browser; it is never skipped)');
  const [page] = extractExamples(doc, 'browser');
  assert.ok(page !== undefined, 'no browser example found');
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl, { tenant: 'demo', pub: ['chat.#'], sub: ['chat.#'] });
  const site = await serve({ '/page.html': ['text/html', page], '/fastpubsub.min.js': ['text/javascript', await bundleBrowser()] });
  t.after(() => site.close());
  const chrome = await launchChromium();
  t.after(() => chrome.close());
  const tab = await chrome.context.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (e) => errors.push(e.message));
  await tab.goto(`${site.url}/page.html?edge=${encodeURIComponent(r.relay.httpUrl)}&token=${encodeURIComponent(token)}`);
  const publisher = await connect({ endpoint: r.relay.httpUrl, token });
  t.after(() => publisher.close());
  // The page subscribes asynchronously: publish until its list shows a message.
  const deadline = Date.now() + 10_000;
  let items: string[] = [];
  while (items.length === 0 && Date.now() < deadline) {
    publisher.publish('demo', 'chat.room1', 'hello from node');
    await new Promise((res) => setTimeout(res, 100));
    items = await tab.locator('#log li').allTextContents();
  }
  assert.deepEqual(errors, []);
  assert.equal(items[0], 'chat.room1: hello from node');
});
}
