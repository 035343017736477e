// HTTPS publish on one relay, over real HTTP and WebSocket sockets: the body arrives byte-exact
// at a WebSocket subscriber; 401, 403, 413 and 400 (names, batch items, Idempotency-Key);
// batch answers per item; a repeated Idempotency-Key publishes once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { MASTER_TOKEN, connectWs, issueToken, metricValue, type Client } from '@fastpubsub/testkit/relay';

let relay: Relay;
let dir: string;
let token: string;
let sub: Client;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fps-http-publish-'));
  relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER_TOKEN, dataDir: dir, logLevel: 'silent', quic: { enabled: false } });
  token = await issueToken(relay.httpUrl, {
    tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['a.#'], allow_channels_sub: ['a.#', 'b.#'] }],
  });
  sub = await connectWs(relay.wsUrl, token);
  await sub.sub('t1', 'a.#');
});

after(async () => {
  await sub?.close();
  await relay?.close({ graceMs: 0 });
  await rm(dir, { recursive: true, force: true });
});

async function post(path: string, body: Uint8Array<ArrayBuffer> | string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(relay.httpUrl + path, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: res.headers };
}

const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

test('a binary body of every byte value reaches the WebSocket subscriber byte-exact; 202 with a 32-hex id', async () => {
  const payload = new Uint8Array(512);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 256;
  const r = await post('/v1/publish/t1/a.bin', payload, { ...bearer(token), 'content-type': 'application/octet-stream' });
  assert.equal(r.status, 202);
  assert.match(String(r.json.id), /^[0-9a-f]{32}$/);
  const d = await sub.nextDelivery();
  assert.equal(d.tenant, 't1');
  assert.equal(d.channel, 'a.bin');
  assert.deepEqual(d.patterns, ['a.#']);
  assert.ok(Buffer.from(d.payload).equals(Buffer.from(payload)));
});

test('an empty body and a body of exactly the payload limit are accepted; one byte more is 413', async () => {
  assert.equal((await post('/v1/publish/t1/a.empty', new Uint8Array(0), bearer(token))).status, 202);
  assert.equal((await sub.nextDelivery()).payload.length, 0);
  const max = new Uint8Array(65535).fill(7);
  assert.equal((await post('/v1/publish/t1/a.max', max, bearer(token))).status, 202);
  assert.equal((await sub.nextDelivery()).payload.length, 65535);
  const over = await post('/v1/publish/t1/a.over', new Uint8Array(65536), bearer(token));
  assert.equal(over.status, 413);
  assert.equal(over.json.error, 'payload_too_large');
  await sub.expectNothing(200);
});

test('a missing, malformed or unknown token is 401; nothing is delivered', async () => {
  for (const headers of [{}, { authorization: 'Basic abc' }, bearer('AT_nope_nope'), bearer(token + 'x')]) {
    const r = await post('/v1/publish/t1/a.x', 'hello', headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.json.error, 'unauthorized');
  }
  await sub.expectNothing(200);
});

test('a channel outside the publish grant is 403 (also a tenant the token lacks)', async () => {
  for (const path of ['/v1/publish/t1/b.x', '/v1/publish/t2/a.x']) {
    const r = await post(path, 'hello', bearer(token));
    assert.equal(r.status, 403, path);
    assert.equal(r.json.error, 'permission_denied');
  }
});

test('bad names and bad paths are 400 with a stable code; unknown methods 405', async () => {
  for (const path of ['/v1/publish/t1/a.*', '/v1/publish/t1/a.%23', '/v1/publish/t1', '/v1/publish/t1/a/b', '/v1/publish/t1/a..b', '/v1/publish/t1/%ff']) {
    const r = await post(path, 'x', bearer(token));
    assert.equal(r.status, 400, path);
    assert.ok(r.json.error === 'invalid_name' || r.json.error === 'bad_request', `${path}: ${String(r.json.error)}`);
  }
  const get = await fetch(`${relay.httpUrl}/v1/publish/t1/a.x`, { headers: bearer(token) });
  assert.equal(get.status, 405);
  await get.text();
});

test('batch: text and base64 items are published in order and answered per item', async () => {
  const body = [
    { tenant: 't1', channel: 'a.one', text: 'héllo' },
    { tenant: 't1', channel: 'a.two', data: Buffer.from([0, 255, 1, 254]).toString('base64') },
    { tenant: 't1', channel: 'b.denied', text: 'no' },
  ];
  const r = await post('/v1/publish', JSON.stringify(body), { ...bearer(token), 'content-type': 'application/json' });
  assert.equal(r.status, 202);
  const results = r.json.results as Array<Record<string, unknown>>;
  assert.equal(results.length, 3);
  assert.equal(results[0]!.status, 202);
  assert.equal(results[1]!.status, 202);
  assert.notEqual(results[0]!.id, results[1]!.id);
  assert.equal(results[2]!.status, 403);
  assert.equal(results[2]!.error, 'permission_denied');
  const d1 = await sub.nextDelivery();
  const d2 = await sub.nextDelivery();
  assert.equal(d1.channel, 'a.one');
  assert.equal(Buffer.from(d1.payload).toString('utf8'), 'héllo');
  assert.equal(d2.channel, 'a.two');
  assert.deepEqual([...d2.payload], [0, 255, 1, 254]);
  await sub.expectNothing(200);
});

test('batch: a malformed item fails the whole request with 400 naming the item; nothing is published', async () => {
  const good = { tenant: 't1', channel: 'a.ok', text: 'fine' };
  const cases: Array<[unknown, number]> = [
    [[good, { tenant: 't1', channel: 'a.x' }], 1],
    [[good, good, { tenant: 't1', channel: 'a.x', text: 'a', data: 'YQ==' }], 2],
    [[{ tenant: 't1', channel: 'a.*', text: 'a' }], 0],
    [[good, { tenant: 't1', channel: 'a.x', data: 'not base64!' }], 1],
    [[good, 'string item'], 1],
    [[good, { tenant: 't1', channel: 'a.x', text: 'a', extra: 1 }], 1],
    [[good, { tenant: 't1', channel: 'a.x', text: 'a', idempotency_key: '' }], 1],
  ];
  for (const [body, item] of cases) {
    const r = await post('/v1/publish', JSON.stringify(body), bearer(token));
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(String(r.json.message), new RegExp(`^item ${item}: `));
    assert.equal(r.json.detail, `item:${item}`);
  }
  const big = await post('/v1/publish', JSON.stringify([good, { tenant: 't1', channel: 'a.big', data: Buffer.alloc(65536).toString('base64') }]), bearer(token));
  assert.equal(big.status, 413);
  assert.equal(big.json.detail, 'item:1');
  for (const body of ['{"not":"an array"}', '[]', 'not json']) {
    assert.equal((await post('/v1/publish', body, bearer(token))).status, 400, body);
  }
  await sub.expectNothing(300);
});

test('Idempotency-Key: the same key publishes once and answers the same id; another key publishes again', async () => {
  const key = `order-${Date.now()}`;
  const first = await post('/v1/publish/t1/a.idem', 'once', { ...bearer(token), 'idempotency-key': key });
  const again = await post('/v1/publish/t1/a.idem', 'once', { ...bearer(token), 'idempotency-key': key });
  assert.equal(first.status, 202);
  assert.equal(again.status, 202);
  assert.equal(first.json.id, again.json.id);
  assert.equal(Buffer.from((await sub.nextDelivery()).payload).toString(), 'once');
  await sub.expectNothing(300);
  const other = await post('/v1/publish/t1/a.idem', 'twice', { ...bearer(token), 'idempotency-key': `${key}-2` });
  assert.notEqual(other.json.id, first.json.id);
  assert.equal(Buffer.from((await sub.nextDelivery()).payload).toString(), 'twice');
  const bad = await post('/v1/publish/t1/a.idem', 'x', { ...bearer(token), 'idempotency-key': 'has space' });
  assert.equal(bad.status, 400);
  const text = await relay.metricsText();
  assert.equal(metricValue(text, 'fastpubsub_dropped_messages_total', { reason: 'idempotent_repeat' }), 1);
  assert.ok((metricValue(text, 'fastpubsub_http_publish_total', { result: 'accepted' }) ?? 0) >= 8);
  assert.ok((metricValue(text, 'fastpubsub_http_publish_total', { result: 'unauthorized' }) ?? 0) >= 1);
});
