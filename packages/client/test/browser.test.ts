// Headless Chromium (Debian's, driven by playwright-core) loads a page that uses the bundled
// SDK to subscribe; messages published from Node arrive in the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from '../src/node.js';
import { bundleBrowser } from './bundle.js';
import { makeToken, startTestRelay } from './helpers.js';
import { CHROMIUM, launchChromium, serve } from './browser-helpers.js';

test('browser: the bundled SDK subscribes in headless Chromium and receives messages published from Node', async (t) => {
  assert.ok(existsSync(CHROMIUM), '/usr/bin/chromium is missing: apt-get install chromium (this test drives a real browser; it is never skipped)');
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const page = `<!doctype html><meta charset="utf-8"><title>fastpubsub</title>
<script type="module">
  import { connect } from '/fastpubsub.js';
  const params = new URLSearchParams(location.search);
  window.got = [];
  try {
    const client = await connect({ endpoint: params.get('edge'), token: params.get('token') });
    const sub = await client.subscribe('t1', 'room.#');
    window.ready = true;
    for await (const m of sub) window.got.push(m.channel + ' ' + new TextDecoder().decode(m.payload));
  } catch (err) {
    window.failed = String(err);
  }
</script>`;
  const site = await serve({ '/': ['text/html', page], '/fastpubsub.js': ['text/javascript', await bundleBrowser()] });
  t.after(() => site.close());
  const chrome = await launchChromium();
  t.after(() => chrome.close());
  const tab = await chrome.context.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (e) => errors.push(e.message));
  await tab.goto(`${site.url}/?edge=${encodeURIComponent(r.relay.httpUrl)}&token=${encodeURIComponent(token)}`);
  await tab.waitForFunction(() => (window as unknown as { ready?: boolean; failed?: string }).ready === true || (window as unknown as { failed?: string }).failed !== undefined, undefined, { timeout: 10_000 });
  assert.equal(await tab.evaluate(() => (window as unknown as { failed?: string }).failed), undefined);

  const publisher = await connect({ endpoint: r.relay.httpUrl, token });
  t.after(() => publisher.close());
  for (let i = 0; i < 10; i++) publisher.publish('t1', `room.${i % 2}`, `hello ${i}`);
  await tab.waitForFunction(() => (window as unknown as { got: string[] }).got.length >= 10, undefined, { timeout: 10_000 });
  const got = await tab.evaluate(() => (window as unknown as { got: string[] }).got);
  assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `room.${i % 2} hello ${i}`));
  assert.deepEqual(errors, []);
});
