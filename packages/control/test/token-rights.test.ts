// Contract §11.7 through the control plane: signed tickets carry allow_protocols and the two
// rates (validated at the control service, an omitted rate filled with its configured default),
// and every PoP enforces them locally.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { http, tokenBody, type Client } from '@fastpubsub/testkit/relay';
import { ControlEnv, MASTER_TOKEN, upgradeStatus } from './harness.js';

const env = new ControlEnv();
afterEach(() => env.cleanup());

async function mint(base: string, extraRight: Record<string, unknown>): Promise<{ status: number; text: string; token: string }> {
  const body = tokenBody({ tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['a.#'], allow_channels_sub: ['a.#'] }] });
  Object.assign(body['right'] as Record<string, unknown>, extraRight);
  const r = await http(base, 'POST', '/v1/get-token', { body, bearer: MASTER_TOKEN });
  return { status: r.status, text: r.text, token: (r.json as { token?: string } | undefined)?.token ?? '' };
}

/** Publishes 100 × 4 KiB and counts what a subscriber holding `subToken` receives in 700 ms. */
async function delivered(sub: Client, pub: Client): Promise<number> {
  await sub.sub('t1', 'a.#');
  for (let i = 0; i < 100; i++) pub.publish('t1', 'a.x', Buffer.alloc(4096, 1));
  let n = 0;
  for (;;) {
    try {
      await sub.nextDelivery(700);
      n++;
    } catch {
      return n;
    }
  }
}

test('signed tickets carry allow_protocols and the rates; PoPs enforce them; the control default fills omitted rates', async () => {
  const control = await env.control({ defaultEgressKbPerSec: 8 });
  const pop = await env.relay([control.url]);

  const wtOnly = await mint(pop.httpUrl, { allow_protocols: ['webtransport'] }); // forwarded to the control service
  assert.equal(wtOnly.status, 200, wtOnly.text);
  assert.equal(await upgradeStatus(pop, wtOnly.token), 403);
  const wsOnly = await mint(control.url, { allow_protocols: ['websocket'], egress_kb_per_sec: 16384 });
  assert.equal(await upgradeStatus(pop, wsOnly.token), 101);
  const bad = await mint(control.url, { allow_protocols: ['ws'] });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /allow_protocols/);
  const badRate = await mint(pop.httpUrl, { ingress_kb_per_sec: 1.5 });
  assert.equal(badRate.status, 400);
  assert.match(badRate.text, /ingress_kb_per_sec/);

  const publisher = await env.connect(pop, wsOnly.token);
  // egress omitted: the control service's default (8 KB/s here) is signed into the ticket.
  const defaulted = await env.connect(pop, (await mint(control.url, {})).token);
  const n = await delivered(defaulted, publisher);
  assert.ok(n >= 2 && n < 25, `egress default 8 KB/s: ${n} of 100 × 4 KiB delivered`);
  const unthrottled = await env.connect(pop, (await mint(control.url, { egress_kb_per_sec: 16384 })).token);
  assert.equal(await delivered(unthrottled, publisher), 100);
});
