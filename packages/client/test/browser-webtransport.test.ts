// Headless Chromium (Debian's, playwright-core, QUIC allowed) runs the bundled SDK with
// transport 'webtransport' against a real relay: subscribe, receive what Node publishes,
// publish from the page, datagram deliveries, and a stalled subscription (one the page never
// reads, flooded) does not delay another subscription on the same session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect, type Message } from '../src/node.js';
import { bundleBrowserSplit } from './bundle.js';
import { makeToken, startTestRelay } from './helpers.js';
import { CHROMIUM, launchChromium, serve } from './browser-helpers.js';

type PageState = { ready?: boolean; failed?: string; transport?: string; got: string[]; dg: string[]; dgTransport?: string };

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
  import { connect } from '/fastpubsub.js';
  const p = new URLSearchParams(location.search);
  window.got = []; window.dg = [];
  try {
    const client = await connect({ endpoint: p.get('edge'), token: p.get('token'), transport: 'webtransport' });
    window.transport = client.transport;
    const room = await client.subscribe('t1', 'room.#');
    await client.subscribe('t1', 'stall.#'); // never read
    const dgClient = await connect({ endpoint: p.get('edge'), token: p.get('token'), transport: 'webtransport', webTransport: { datagramSubscriptions: true } });
    window.dgTransport = dgClient.transport;
    const dgSub = await dgClient.subscribe('t1', 'pos.#');
    (async () => { for await (const m of dgSub) window.dg.push(m.channel); })();
    window.ready = true;
    for await (const m of room) {
      const text = new TextDecoder().decode(m.payload);
      window.got.push(m.channel + ' ' + text);
      if (text === 'echo please') client.publish('t1', 'reply.page', 'from the page');
    }
  } catch (err) {
    window.failed = String(err && err.stack || err);
  }
</script>`;

test('browser: transport webtransport — subscribe, receive, publish, datagrams; a stalled subscription does not delay another', async (t) => {
  assert.ok(existsSync(CHROMIUM), `this test needs ${CHROMIUM}: install Debian's chromium package`);
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const { entry, chunks } = await bundleBrowserSplit();
  const files: Record<string, [string, string]> = { '/': ['text/html', PAGE], '/fastpubsub.js': ['text/javascript', entry] };
  for (const [name, code] of Object.entries(chunks)) files[`/${name}`] = ['text/javascript', code];
  const site = await serve(files);
  t.after(() => site.close());
  const chrome = await launchChromium({ quic: true });
  t.after(() => chrome.close());
  const tab = await chrome.context.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (e) => errors.push(e.message));
  const state = (): Promise<PageState> =>
    tab.evaluate(() => {
      const w = window as unknown as PageState;
      return { ready: w.ready, failed: w.failed, transport: w.transport, dgTransport: w.dgTransport, got: [...w.got], dg: [...w.dg] };
    });
  await tab.goto(`${site.url}/?edge=${encodeURIComponent(r.relay.httpUrl)}&token=${encodeURIComponent(token)}`);
  await tab.waitForFunction(() => (window as unknown as PageState).ready === true || (window as unknown as PageState).failed !== undefined, undefined, { timeout: 15_000 });
  const s0 = await state();
  assert.equal(s0.failed, undefined);
  assert.equal(s0.transport, 'webtransport');
  assert.equal(s0.dgTransport, 'webtransport');

  const node = await connect({ endpoint: r.relay.httpUrl, token });
  t.after(() => node.close());
  const replies = await node.subscribe('t1', 'reply.#');
  for (let i = 0; i < 5; i++) node.publish('t1', `room.${i}`, `hello ${i}`);
  node.publish('t1', 'room.ask', 'echo please');
  await tab.waitForFunction(() => (window as unknown as PageState).got.length >= 6, undefined, { timeout: 10_000 });
  assert.deepEqual((await state()).got, [...Array.from({ length: 5 }, (_, i) => `room.${i} hello ${i}`), 'room.ask echo please']);
  const it = replies[Symbol.asyncIterator]();
  const reply = await it.next();
  assert.equal(new TextDecoder().decode((reply.value as Message | undefined)?.payload), 'from the page');

  // Datagram deliveries: small position updates on a datagram subscription.
  for (let i = 0; i < 20; i++) node.publish('t1', `pos.${i}`, `p${i}`);
  await tab.waitForFunction(() => (window as unknown as PageState).dg.length >= 10, undefined, { timeout: 10_000 });

  // Flood the subscription the page never reads, then one message for the read one.
  const chunk = new Uint8Array(8 * 1024);
  for (let i = 0; i < 256; i++) node.publish('t1', 'stall.x', chunk);
  const sent = Date.now();
  node.publish('t1', 'room.after', 'not delayed');
  await tab.waitForFunction(() => (window as unknown as PageState).got.includes('room.after not delayed'), undefined, { timeout: 10_000 });
  const delayMs = Date.now() - sent;
  assert.ok(delayMs < 3000, `delivery took ${delayMs} ms`);
  assert.deepEqual(errors, []);
});
