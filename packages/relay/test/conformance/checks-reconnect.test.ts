// Contract v0.1 §9 check 17: RECONNECT on graceful shutdown; make-before-break.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestEnv, within } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
afterEach(() => env.cleanup());

describe('contract v0.1 conformance: RECONNECT', () => {
  test('check 17: after RECONNECT the new connection works and the old one delivers until the client closes it', async () => {
    const oldEdge = await env.relay();
    const newEdge = await env.relay();
    const old = await env.client(oldEdge);
    const oldPub = await env.client(oldEdge);
    await old.sub('t1', 'a.#');

    const closing = oldEdge.close({ graceMs: 2000 });
    closing.catch(() => undefined);
    assert.equal(await old.nextText(1000), 'RECONNECT');
    assert.equal(await oldPub.nextText(1000), 'RECONNECT');

    // Make-before-break: a new connection (here: to another edge, as the overlay would route it),
    // re-SUB, wait for OK:SUB ...
    const fresh = await env.client(newEdge);
    await fresh.sub('t1', 'a.#');
    const newPub = await env.client(newEdge);
    newPub.publish('t1', 'a.new', 'via new');
    const d = await fresh.nextDelivery();
    assert.equal(d.payload.toString(), 'via new');

    // ... while the old connection keeps delivering during the grace period.
    oldPub.publish('t1', 'a.old', 'during grace');
    const od = await old.nextDelivery(1000);
    assert.deepEqual(od, { tenant: 't1', channel: 'a.old', payload: Buffer.from('during grace'), patterns: ['a.#'] });
    await old.ping(500);
    assert.equal(old.closeInfo, undefined, 'the old connection is still open during the grace period');

    // The client closes the old connection; shutdown completes within the grace period bound.
    await old.close();
    await oldPub.close();
    await within(closing, 4000, 'relay.close({graceMs: 2000}) to finish');
  });

  test('check 17 (grace bound): connections still open at the end of the grace period are closed by the relay', async () => {
    const relay = await env.relay();
    const c = await env.client(relay);
    const start = Date.now();
    const closing = relay.close({ graceMs: 500 });
    assert.equal(await c.nextText(1000), 'RECONNECT');
    await within(c.closed, 3000, 'the relay to close a lingering connection after the grace period');
    assert.ok(Date.now() - start >= 400, `closed after ${Date.now() - start} ms, before the 500 ms grace period`);
    await within(closing, 3000, 'relay.close');
  });
});
