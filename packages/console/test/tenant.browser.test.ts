// The tenant console on a real dev cluster, in headless Debian Chromium: a wrong token gets a
// clear message; sign in with the tenant master token; create an access token; a Node client
// publishes with it and the live rate moves; the tail shows markup as text; revoking the
// token closes the Node client's connection; the operator creates a tenant, sets limits and
// rotates keys. Screenshots go to docs/console/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { connect, type ClientState } from '@fastpubsub/client/node';
import { join } from 'node:path';
import { CHROMIUM, SHOTS, addLoopbackAlias, buildConsole, devCluster, launchChromium, screenshot } from './helpers.js';
import { CONSOLE_ROUTES } from '../src/tenant/api.js';

// An address the bundled GeoIP data places in Germany, added to lo for the test.
const GERMANY = '193.99.145.250';

const TOPOLOGY = JSON.parse(readFileSync(new URL('../../../topologies/default.json', import.meta.url), 'utf8')) as unknown;

test('tenant console: sign in, create a token, see its traffic, revoke it and its connection closes', { timeout: 180_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), '/usr/bin/chromium is missing: apt-get install chromium (this test drives a real browser; it is never skipped)');
  buildConsole();
  const cluster = await devCluster(TOPOLOGY);
  t.after(() => cluster.stop());
  const control = cluster.control!;
  const chrome = await launchChromium();
  t.after(() => chrome.close());
  const { page } = chrome;
  await page.goto(`${control.url}/console/tenant.html`);

  // A wrong token: a clear message, not a blank page.
  await page.fill('#signin-tenant', control.tenant);
  await page.fill('#signin-token', 'MT_0000000000000000_00000000000000000000000000000000000000000000');
  await page.click('#signin-form button');
  await page.waitForFunction(() => (document.querySelector('#signin-error')?.textContent ?? '') !== '', undefined, { timeout: 10_000 });
  assert.match((await page.textContent('#signin-error')) ?? '', /Wrong or expired token/);

  await page.fill('#signin-token', control.tenantMasterToken);
  await page.click('#signin-form button');
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });

  // Create a token in the page.
  await page.click('#token-form button');
  await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('#new-token')?.value ?? '').startsWith('AT_'), undefined, { timeout: 10_000 });
  const token = await page.inputValue('#new-token');
  const tokenId = token.split('_')[1]!;
  await page.waitForSelector(`#tokens tr[data-token-id="${tokenId}"]`, { timeout: 5000 });

  // Tail the console's test channels, then publish from Node with the new token.
  await page.fill('#tail-pattern', 'console.#');
  await page.click('#tail-form button');
  const publisher = await connect({ endpoint: cluster.nodes.get('tokyo')!.wsUrl, token, reconnect: { maxDelayMs: 500 } });
  t.after(() => publisher.close());
  const states: ClientState[] = [];
  publisher.on('state', ({ state }) => states.push(state));
  // Markup in a payload is text in the tail. Sent until it shows (the tail's subscription
  // reaches the publisher's PoP through the mesh's interest gossip), at most 25 times.
  const evil = '<img src=x onerror="window.__xss=1">';
  for (let i = 0; i < 25 && (await page.locator('#tail li[data-channel="console.xss"]').count()) === 0; i++) {
    publisher.publish(control.tenant, 'console.xss', evil);
    await page.waitForTimeout(200);
  }
  assert.equal(await page.textContent('#tail li[data-channel="console.xss"]').then((s) => s?.endsWith(evil)), true);
  assert.equal(await page.locator('img').count(), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);

  // Real traffic for the new panels: a subscriber of load.2 (subscriber counts; load.0, .1 and
  // .3 have none: drops by reason), a tenant limit of 60 msg/s under the ≈ 100 msg/s pump
  // (rate-limit refusals), and a crawler connecting from a German address (GeoIP, bot flags).
  const subscriber = await connect({ endpoint: cluster.nodes.get('tokyo')!.wsUrl, token, reconnect: { maxDelayMs: 500 } });
  t.after(() => subscriber.close());
  await subscriber.subscribe(control.tenant, 'load.2');
  const limited = await fetch(`${control.url}/v1/tenants/${control.tenant}/limits`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${control.operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messagesPerSecond: 60 }),
  });
  assert.equal(limited.status, 200, await limited.text());
  const removeAlias = addLoopbackAlias(GERMANY);
  t.after(removeAlias);
  const crawler = new WebSocket(cluster.nodes.get('tokyo')!.wsUrl, ['llps.v1', `at.${token}`], { localAddress: GERMANY, headers: { 'User-Agent': 'Mozilla/5.0 (compatible; Googlebot/2.1)' } });
  t.after(() => crawler.terminate());
  await new Promise((resolve, reject) => {
    crawler.once('open', resolve);
    crawler.once('error', reject);
  });

  let sent = 0;
  const pump = setInterval(() => {
    for (let i = 0; i < 10 && sent < 5000; i++, sent++) publisher.publish(control.tenant, `load.${sent % 4}`, `m${sent}`);
  }, 100); // ≈ 100 msg/s, at most 5000 messages
  t.after(() => clearInterval(pump));
  const rateHandle = await page.waitForFunction(() => {
    const r = Number(document.querySelector('#rate-now')?.getAttribute('data-rate'));
    return r >= 30 ? r : false;
  }, undefined, { timeout: 15_000 });
  console.log(`tenant console: rate ${String(await rateHandle.jsonValue())} msg/s with the Node publisher`);
  // The busiest channels, searchable.
  await page.waitForSelector('#channels tr[data-channel="load.2"]', { timeout: 10_000 });
  await page.fill('#channel-search', 'load.3');
  await page.waitForFunction(() => {
    const rows = Array.from(document.querySelectorAll('#channels tr')).map((r) => r.getAttribute('data-channel'));
    return rows.length === 1 && rows[0] === 'load.3';
  }, undefined, { timeout: 5000 });
  await page.fill('#channel-search', '');
  // Subscriber counts and top publishers, per-PoP drops, refusals and latency, where clients connect.
  await page.waitForFunction(() => Number(document.querySelector('#channels tr[data-channel="load.2"] td:nth-child(4)')?.textContent) >= 1, undefined, { timeout: 10_000 });
  await page.waitForSelector(`#publishers tr[data-token-id="${tokenId}"]`, { timeout: 10_000 });
  const tokyoCard = '#pop-charts article[data-pop="tokyo"]';
  await page.waitForFunction((sel) => {
    const card = document.querySelector(sel);
    return card !== null && Number(card.getAttribute('data-drops')) > 0 && Number(card.getAttribute('data-refusals')) > 0 && card.querySelectorAll('rect').length > 0;
  }, tokyoCard, { timeout: 20_000 });
  console.log(`tenant console: tokyo drops ${await page.getAttribute(tokyoCard, 'data-drops')}/s, refusals ${await page.getAttribute(tokyoCard, 'data-refusals')}/s`);
  await page.waitForSelector('#by-country li[data-country="DE"]', { timeout: 10_000 });
  await page.waitForSelector('#country-dots g[data-country="DE"] circle', { timeout: 5000 });
  await page.waitForSelector(`#flagged tr[data-token-id="${tokenId}"][data-flags~="crawler_agent"]`, { timeout: 10_000 });
  await page.waitForSelector('#by-pop li[data-pop="tokyo"]', { timeout: 5000 });
  await page.waitForTimeout(1500); // a few points on the charts
  await screenshot(page, 'tenant.png');
  await page.locator('section[aria-labelledby="h-delivery"]').screenshot({ path: join(SHOTS, 'tenant-delivery.png') });
  await page.locator('section[aria-labelledby="h-clients"]').screenshot({ path: join(SHOTS, 'tenant-clients.png') });
  clearInterval(pump);
  await fetch(`${control.url}/v1/tenants/${control.tenant}/limits`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${control.operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({}),
  });

  // Refresh moves the expiry; every route the console calls is in the control plane's /openapi.json.
  const expiresBefore = await page.textContent(`#tokens tr[data-token-id="${tokenId}"] td:nth-child(4)`);
  await page.fill('#token-hours', '12');
  await page.click(`#tokens button[data-refresh-id="${tokenId}"]`);
  await page.waitForFunction(([id, before]) => {
    const now = document.querySelector(`#tokens tr[data-token-id="${id}"] td:nth-child(4)`)?.textContent;
    return (now !== undefined && now !== null && now !== before) || (document.querySelector('#token-error')?.textContent ?? '') !== '';
  }, [tokenId, expiresBefore] as const, { timeout: 10_000 });
  assert.equal(await page.textContent('#token-error'), '', 'refresh answered an error');
  const spec = (await (await fetch(`${control.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  for (const route of CONSOLE_ROUTES) {
    const [method, path] = route.split(' ') as [string, string];
    assert.ok(spec.paths[path]?.[method.toLowerCase()] !== undefined, `${route} is not in /openapi.json`);
  }

  // Revoke: the PoPs close the token's connection, and it cannot come back.
  const revokedAt = Date.now();
  await page.click(`#tokens button[data-token-id="${tokenId}"]`);
  await page.waitForSelector(`#tokens tr[data-token-id="${tokenId}"] td.state:text("revoked")`, { timeout: 10_000 });
  const deadline = Date.now() + 10_000;
  while (publisher.state === 'connected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const closedMs = Date.now() - revokedAt;
  console.log(`tenant console: the revoked token's connection closed ${closedMs} ms after the click; states ${states.join(' → ')}`);
  assert.notEqual(publisher.state, 'connected', 'the revoked token is still connected');
  await page.waitForTimeout(1500);
  assert.notEqual(publisher.state, 'connected', 'the revoked token connected again');
  await screenshot(page, 'tenant-revoked.png');

  // The operator token: every tenant, create one, set limits, rotate keys.
  await page.goto(`${control.url}/console/tenant.html`);
  await page.fill('#signin-tenant', control.tenant);
  await page.fill('#signin-token', control.operatorToken);
  await page.click('#signin-form button');
  await page.waitForSelector('#operator:not([hidden]) #tenant-list li[data-tenant="demo"]', { timeout: 10_000 });
  await page.fill('#new-tenant-id', 'acme');
  await page.fill('#new-tenant-name', 'Acme <b>Corp</b>');
  await page.click('#tenant-form button');
  await page.waitForSelector('#tenant-list li[data-tenant="acme"]', { timeout: 10_000 });
  assert.equal(await page.textContent('#tenant-list li[data-tenant="acme"]'), 'acme · Acme <b>Corp</b>');
  await page.fill('#limit-monthlyMessages', '1000000');
  await page.click('#limits-form button');
  await page.waitForFunction(() => /Limits of demo saved/.test(document.querySelector('#operator-note')?.textContent ?? ''), undefined, { timeout: 10_000 });
  const limits = (await (await fetch(`${control.url}/v1/tenants/demo/limits`, { headers: { authorization: `Bearer ${control.operatorToken}` } })).json()) as { monthlyMessages?: number };
  assert.equal(limits.monthlyMessages, 1_000_000);
  await page.click('#rotate-form button');
  await page.waitForFunction(() => /New signing key/.test(document.querySelector('#operator-note')?.textContent ?? ''), undefined, { timeout: 10_000 });
  await screenshot(page, 'operator.png');
  assert.deepEqual(chrome.errors, []);
});
