// Contract v0.1 §11.8 and §11.10 checks 36–37: a client holding a granted and a refused
// subscription completes a make-before-break reconnect, after RECONNECT and after losing its
// connection, because every refused SUB is answered with ERR and then an inert OK:SUB. The
// client is ContractModelClient (the SDK's reconnect rules, written from the contract), reaching
// the relays through one URL (a TCP forwarder), as an SDK keeps its URL across reconnects.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestEnv, freePort, sleep, waitFor, type Client, type Relay } from '@fastpubsub/testkit/relay';
import { ContractModelClient } from './sdk-model.js';
import { TcpProxy } from './tcp-proxy.js';

const env = new TestEnv();
const stoppers: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
  await env.cleanup();
});

// Short overlap keeps the suite quick; the SDK's is 5 s, and the relay does not depend on it.
const OVERLAP_MS = 1000;

const clientGrant = { tenant_ids: ['t1'], allow_channels_pub: ['ok.#'], allow_channels_sub: ['ok.#'] };
const publisherGrant = { tenant_ids: ['t1'], allow_channels_pub: ['ok.#', 'x.#'], allow_channels_sub: [] };

function portOf(relay: Relay): number {
  return Number(new URL(relay.httpUrl).port);
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fps-refused-sub-'));
  stoppers.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A client holding t1:ok.# (granted) and t1:x.# (refused: ERR, then the inert OK:SUB). */
async function modelClient(url: string, token: string): Promise<ContractModelClient> {
  const m = new ContractModelClient(url, token, { overlapMs: OVERLAP_MS, retryMs: 200, maxAttempts: 50 });
  stoppers.push(() => m.stop());
  await m.start();
  m.subscribe('t1', 'ok.#');
  m.subscribe('t1', 'x.#');
  await waitFor(() => m.events.some((e) => e.kind === 'error' && e.text === 'ERR:permission_denied:SUB:t1:x.#'), 2000, 'the refusal of x.# as an error event');
  return m;
}

/** Publishes one message to ok.# and one to x.# until the model holds `n` ok.# deliveries in all. */
async function expectOkOnly(m: ContractModelClient, pub: Client, tag: string): Promise<void> {
  const before = m.deliveriesOf('ok.#').length;
  pub.publish('t1', 'x.never', `${tag}-x`);
  pub.publish('t1', `ok.${tag}`, tag);
  await waitFor(() => m.deliveriesOf('ok.#').length > before, 3000, `ok.# delivery ${tag}`);
  assert.equal(m.deliveries.filter((d) => d.channel === 'x.never').length, 0, 'x.# never receives');
}

describe('contract v0.1 §11.8: refused SUB and reconnect (checks 36, 37)', () => {
  test('check 36: after RECONNECT the client switches within 2 s, closes the old connection later, ok.# keeps receiving, x.# never does', async () => {
    const dirA = await tempDir();
    const relayA = await env.relay({ dataDir: dirA });
    const client = await env.token(relayA, { tenant_grants: [clientGrant] });
    const publisher = await env.token(relayA, { tenant_grants: [publisherGrant] });
    // Relay B serves the same tokens (a copy of A's token store), as the next edge of an overlay would.
    const dirB = await tempDir();
    await cp(dirA, dirB, { recursive: true });
    const relayB = await env.relay({ dataDir: dirB });
    const proxy = await TcpProxy.listen(portOf(relayA));
    stoppers.push(() => proxy.close());

    const m = await modelClient(`ws://127.0.0.1:${proxy.port}/ws`, client);
    const pubA = await env.connect(relayA, publisher);
    await expectOkOnly(m, pubA, 'before');

    proxy.target = portOf(relayB); // new connections land on B; A drains
    const closing = relayA.close({ graceMs: 8000 });
    closing.catch(() => undefined);
    await waitFor(() => m.countEvents('reconnect_requested') === 1, 2000, 'RECONNECT');
    const askedAt = m.events.find((e) => e.kind === 'reconnect_requested')!.atMs;
    await waitFor(() => m.countEvents('reconnect_ready') === 1, 2000, 'ReconnectReady within 2 s of RECONNECT');
    const ready = m.events.find((e) => e.kind === 'reconnect_ready')!;
    assert.ok(ready.atMs - askedAt <= 2000, `switched ${ready.atMs - askedAt} ms after RECONNECT`);

    // During the overlap both connections are open and the old one still delivers.
    assert.equal(m.openConnections, 2);
    await expectOkOnly(m, pubA, 'old-during-overlap');
    const pubB = await env.connect(relayB, publisher);
    await expectOkOnly(m, pubB, 'new');
    await waitFor(() => m.countEvents('old_closed') === 1, OVERLAP_MS + 2000, 'the old connection closed after the overlap');
    await waitFor(() => m.openConnections === 1, 2000, 'the old connection\'s close handshake');
    await sleep(100);
    await expectOkOnly(m, pubB, 'after');
    assert.equal(m.countEvents('dead'), 0);
    assert.equal(m.countEvents('publish_failed'), 0);
    await pubA.close();
  });

  test('check 37 (relay restart): the edge closes the active connection; the client reconnects to the restarted relay and switches', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    let relay = await env.relay({ dataDir, listen: { host: '127.0.0.1', port } });
    const client = await env.token(relay, { tenant_grants: [clientGrant] });
    const publisher = await env.token(relay, { tenant_grants: [publisherGrant] });
    const m = await modelClient(`ws://127.0.0.1:${port}/ws`, client);
    let pub = await env.connect(relay, publisher);
    await expectOkOnly(m, pub, 'before');

    await relay.close({ graceMs: 0 });
    await waitFor(() => m.countEvents('connection_lost') === 1, 3000, 'the edge closing the active connection');
    relay = await env.relay({ dataDir, listen: { host: '127.0.0.1', port } });
    await waitFor(() => m.countEvents('reconnect_ready') === 1, 5000, 'ReconnectReady after the restart');
    pub = await env.connect(relay, publisher);
    await expectOkOnly(m, pub, 'after-restart');
    assert.equal(m.countEvents('dead'), 0);
    m.publish('t1', 'ok.self', 'self');
    await waitFor(() => m.deliveries.some((d) => d.channel === 'ok.self'), 2000, 'the client publishes again after the switch');
  });

  test('check 37 (lost connection): the connection drops without a close frame; the client switches and keeps receiving', async () => {
    const relay = await env.relay();
    const client = await env.token(relay, { tenant_grants: [clientGrant] });
    const publisher = await env.token(relay, { tenant_grants: [publisherGrant] });
    const proxy = await TcpProxy.listen(portOf(relay));
    stoppers.push(() => proxy.close());
    const m = await modelClient(`ws://127.0.0.1:${proxy.port}/ws`, client);
    const pub = await env.connect(relay, publisher);
    await expectOkOnly(m, pub, 'before');

    proxy.cutAll();
    await waitFor(() => m.countEvents('connection_lost') === 1, 3000, 'the lost connection');
    await waitFor(() => m.countEvents('reconnect_ready') === 1, 2000, 'ReconnectReady');
    await expectOkOnly(m, pub, 'after');
    assert.equal(m.countEvents('dead'), 0);
  });

  test('the same holds for every refusal reason: invalid pattern, too many subscriptions, expired token', async () => {
    const relay = await env.relay({ limits: { maxSubscriptionsPerConnection: 2 } });
    const token = await env.token(relay, { tenant_grants: [{ ...clientGrant, allow_channels_sub: ['ok.#', 'a.#'] }] });
    const publisher = await env.token(relay, { tenant_grants: [publisherGrant] });
    const proxy = await TcpProxy.listen(portOf(relay));
    stoppers.push(() => proxy.close());
    const m = new ContractModelClient(`ws://127.0.0.1:${proxy.port}/ws`, token, { overlapMs: OVERLAP_MS, retryMs: 200, maxAttempts: 20 });
    stoppers.push(() => m.stop());
    await m.start();
    m.subscribe('t1', 'ok.#');
    m.subscribe('t1', 'a.#');
    m.subscribe('t1', 'a.#.b'); // invalid pattern
    m.subscribe('t1', 'a.third'); // the third subscription: over the limit of 2
    await waitFor(() => m.countEvents('error') === 2, 2000, 'two refusals');
    assert.deepEqual(m.events.filter((e) => e.kind === 'error').map((e) => (e as { text: string }).text).sort(), [
      'ERR:invalid_pattern:SUB:t1:a.#.b',
      'ERR:too_many_subscriptions:SUB:t1:a.third',
    ]);
    const pub = await env.connect(relay, publisher);
    await expectOkOnly(m, pub, 'before');
    proxy.cutAll();
    await waitFor(() => m.countEvents('reconnect_ready') === 1, 3000, 'ReconnectReady with two refused subscriptions');
    await expectOkOnly(m, pub, 'after');

    // An expired token: SUB gets ERR:token_expired then the inert OK:SUB (the connection stays).
    const shortLived = await env.token(relay, { expires_at: new Date(Date.now() + 1500).toISOString() });
    const c = await env.connect(relay, shortLived);
    await sleep(1700);
    c.sendText('SUB:t1:a.late');
    assert.equal(await c.nextText(), 'ERR:token_expired:SUB:t1:a.late');
    assert.equal(await c.nextText(), 'OK:SUB:t1:a.late');
    await c.ping();
  });
});
