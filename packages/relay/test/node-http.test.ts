// REST routes of a relay started by startRelay, over real HTTP on an ephemeral port.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { MASTER_TOKEN, http, metricValue, tokenBody } from '@fastpubsub/testkit/relay';

let relay: Relay;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fps-node-http-'));
  relay = await startRelay(
    { listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER_TOKEN, dataDir: dir, logLevel: 'silent', limits: { maxHttpBodyBytes: 4096 } },
  );
});

after(async () => {
  await relay.close({ graceMs: 0 });
  await rm(dir, { recursive: true, force: true });
});

test('startRelay binds an ephemeral port and reports its URLs', () => {
  assert.ok(relay.port > 0);
  assert.equal(relay.httpUrl, `http://127.0.0.1:${relay.port}`);
  assert.equal(relay.wsUrl, `ws://127.0.0.1:${relay.port}/ws`);
  assert.equal(relay.config.listen.port, relay.port);
});

test('GET /ping is pong without auth; /healthz is ok', async () => {
  const ping = await http(relay.httpUrl, 'GET', '/ping', { bearer: null });
  assert.equal(ping.status, 200);
  assert.equal(ping.text, 'pong');
  const health = await http(relay.httpUrl, 'GET', '/healthz', { bearer: null });
  assert.equal(health.status, 200);
  assert.deepEqual(health.json, { status: 'ok' });
});

test('GET /v1/edges defaults to the relay itself, with the bound port', async () => {
  const r = await http(relay.httpUrl, 'GET', '/v1/edges', { bearer: null });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { edges: [`127.0.0.1:${relay.port}`] });
});

test('token calls need the master token: wrong, missing or non-Bearer gets 401 JSON', async () => {
  for (const bearer of ['wrong-token', null, MASTER_TOKEN + 'x', MASTER_TOKEN.slice(0, -1)]) {
    const r = await http(relay.httpUrl, 'POST', '/v1/get-token', { bearer, body: tokenBody() });
    assert.equal(r.status, 401, `bearer ${String(bearer)}`);
    assert.equal((r.json as { error: string }).error, 'unauthorized');
  }
  const basic = await fetch(`${relay.httpUrl}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Basic ${MASTER_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(tokenBody()),
  });
  assert.equal(basic.status, 401);
  const ok = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody() });
  assert.equal(ok.status, 200);
  assert.match((ok.json as { token: string }).token, /^AT_[0-9a-f]{32}_[0-9a-f]{32}$/);
  assert.deepEqual(Object.keys(ok.json as object), ['token'], 'the stored record must not leak');
});

test('bad bodies: invalid JSON 400, too large 413, invalid request 400', async () => {
  const bad = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: '{"right":' });
  assert.equal(bad.status, 400);
  assert.equal((bad.json as { error: string }).error, 'bad_request');
  const big = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: { pad: 'x'.repeat(8000) } });
  assert.equal(big.status, 413);
  assert.equal((big.json as { error: string }).error, 'payload_too_large');
  const invalid = await http(relay.httpUrl, 'DELETE', '/v1/revoke-token', { body: { token: 'nope' } });
  assert.ok(invalid.status >= 400 && invalid.status < 500, `revoke of garbage: ${invalid.status}`);
});

test('unknown routes get 404, known routes with a wrong method 405 with Allow', async () => {
  const missing = await http(relay.httpUrl, 'GET', '/v1/nothing', { bearer: null });
  assert.equal(missing.status, 404);
  assert.equal((missing.json as { error: string }).error, 'not_found');
  const res = await fetch(`${relay.httpUrl}/v1/get-token`, { method: 'GET' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'POST');
  await res.text();
  const ping = await fetch(`${relay.httpUrl}/ping`, { method: 'POST' });
  assert.equal(ping.status, 405);
  await ping.text();
});

test('GET /metrics exposes every documented metric name', async () => {
  const r = await http(relay.httpUrl, 'GET', '/metrics', { bearer: null });
  assert.equal(r.status, 200);
  for (const name of [
    'fastpubsub_connections',
    'fastpubsub_subscriptions',
    'fastpubsub_messages_in_total',
    'fastpubsub_messages_out_total',
    'fastpubsub_bytes_in_total',
    'fastpubsub_bytes_out_total',
    'fastpubsub_dropped_messages_total',
    'fastpubsub_slow_consumer_disconnects_total',
    'fastpubsub_errors_total',
    'fastpubsub_publish_to_write_seconds',
  ]) {
    assert.match(r.text, new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'), name);
  }
  assert.match(r.text, /^fastpubsub_publish_to_write_seconds_bucket\{le="0.00001"\} 0$/m);
  assert.equal(metricValue(r.text, 'fastpubsub_messages_in_total', { edge: 'ws' }), 0);
  assert.equal(metricValue(r.text, 'fastpubsub_connections', { edge: 'ws' }), 0);
  assert.equal(metricValue(await relay.metricsText(), 'fastpubsub_dropped_messages_total', { reason: 'no_subscribers' }), 0);
  // 401s above were REST errors, not ERR replies or refused upgrades.
  assert.equal(metricValue(r.text, 'fastpubsub_errors_total', { code: 'unauthorized' }), undefined);
});

test('a second relay on a taken port fails to start with EADDRINUSE', async () => {
  const dir2 = await mkdtemp(join(tmpdir(), 'fps-node-http-'));
  try {
    await assert.rejects(
      startRelay({ listen: { host: '127.0.0.1', port: relay.port }, masterToken: MASTER_TOKEN, dataDir: dir2, logLevel: 'silent' }),
      /EADDRINUSE/,
    );
  } finally {
    await rm(dir2, { recursive: true, force: true });
  }
});

test('an invalid config is refused before anything listens', async () => {
  await assert.rejects(
    startRelay({ masterToken: MASTER_TOKEN, limits: { bogus: 1 } } as unknown as Parameters<typeof startRelay>[0]),
    /limits\.bogus: unknown key/,
  );
});
