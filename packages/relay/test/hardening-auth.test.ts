// Failed authentication over real sockets: counted by edge and reason, logged with the token
// id and never the secret, throttled per IP with backoff (REST 429 + Retry-After, WebSocket
// upgrade refused with 429) while other IPs are served; weak master tokens refused at
// start-up; mesh introspection needs the master token; token calls accept only JSON.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { QuicEdgeClient } from '@fastpubsub/client/quic';
import { createLogger, isFpsError } from '@fastpubsub/core';
import { startRelay } from '../src/index.js';
import { MASTER_TOKEN, TestEnv, http, metricValue, sleep, tokenBody } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
afterEach(() => env.cleanup());

/** Upgrade status from a given local address (a distinct client IP on loopback). */
function upgradeStatus(wsUrl: string, token: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, ['llps.v1', `at.${token}`], { localAddress });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      if (res.statusCode === 429) assert.ok(Number(res.headers['retry-after']) >= 1, 'a throttled upgrade says when to retry');
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (err) => reject(err));
  });
}

test('wrong master tokens: 401s counted, then 429 with Retry-After for that IP, cleared after the wait', async () => {
  const relay = await env.relay({ quic: { enabled: false }, limits: { authFailuresPerIp: 3 } });
  for (let i = 0; i < 3; i++) {
    const r = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody(), bearer: `wrong-master-token-${i}` });
    assert.equal(r.status, 401);
  }
  const res = await fetch(`${relay.httpUrl}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(tokenBody()),
  });
  assert.equal(res.status, 429, 'even the right token waits while the IP is throttled');
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  await sleep(retryAfter * 1000 + 100);
  assert.equal((await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody() })).status, 200);
  const m = (await http(relay.httpUrl, 'GET', '/metrics')).text;
  assert.equal(metricValue(m, 'fastpubsub_auth_failures_total', { edge: 'rest', reason: 'bad_master_token' }), 3);
  assert.ok((metricValue(m, 'fastpubsub_auth_failures_total', { edge: 'rest', reason: 'throttled' }) ?? 0) >= 1);
});

test('wrong access tokens on the WebSocket edge: logged by token id (never the secret), then the IP is refused; another IP is served', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fps-auth-'));
  const lines: string[] = [];
  const relay = await startRelay(
    { listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER_TOKEN, dataDir: dir, quic: { enabled: false }, limits: { authFailuresPerIp: 3 } },
    { logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }) },
  );
  try {
    const good = await env.token(relay);
    const secret = 'guessedsecret0123456789';
    for (let i = 0; i < 3; i++) assert.equal(await upgradeStatus(relay.wsUrl, `AT_guess${i}_${secret}`, '127.0.0.2'), 401);
    assert.equal(await upgradeStatus(relay.wsUrl, good, '127.0.0.2'), 429, 'the throttled IP is refused before its token is looked at');
    assert.equal(await upgradeStatus(relay.wsUrl, good, '127.0.0.3'), 101, 'another IP is served');
    const failures = lines.filter((l) => l.includes('authentication failed'));
    assert.equal(failures.length, 3);
    assert.ok(failures.every((l) => /"tokenId":"guess\d"/.test(l) && /"edge":"ws"/.test(l)), failures.join('\n'));
    assert.ok(!lines.some((l) => l.includes(secret)), 'the secret is never logged');
    const m = await relay.metricsText();
    assert.equal(metricValue(m, 'fastpubsub_auth_failures_total', { edge: 'ws', reason: 'unauthorized' }), 3);
  } finally {
    await relay.close({ graceMs: 0 });
    await rm(dir, { recursive: true, force: true });
  }
});

test('a master token under 32 characters is refused at start-up', async () => {
  await assert.rejects(startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: 'short-master-token', logLevel: 'silent' }), (err: unknown) => {
    assert.ok(isFpsError(err));
    assert.equal(err.code, 'config_invalid');
    assert.match(err.message, /masterToken/);
    return true;
  });
});

test('mesh introspection needs the master token; token calls accept only application/json', async () => {
  const relay = await env.relay({ quic: { enabled: false } });
  assert.equal((await http(relay.httpUrl, 'GET', '/v1/mesh/links', { bearer: null })).status, 401);
  assert.equal((await http(relay.httpUrl, 'GET', '/v1/mesh/routes', { bearer: 'not-the-master-token-0123456789abc' })).status, 401);
  // With the credential it gets past the gate (this relay has no mesh: 404).
  assert.equal((await http(relay.httpUrl, 'GET', '/v1/mesh/links')).status, 404);
  const form = await fetch(`${relay.httpUrl}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_TOKEN}`, 'content-type': 'text/plain' },
    body: JSON.stringify(tokenBody()),
  });
  assert.equal(form.status, 415);
  assert.equal(((await form.json()) as { error: string }).error, 'unsupported_media_type');
});

test('wrong access tokens on the QUIC edge are counted and the IP is then refused with rate_limited', async () => {
  const relay = await env.relay({ limits: { authFailuresPerIp: 3 } });
  const good = await env.token(relay);
  const attempt = async (token: string): Promise<string> => {
    try {
      const q = await QuicEdgeClient.connect({ host: '127.0.0.1', port: relay.quicPort as number, token, caPem: relay.quicCaPem });
      await q.ping();
      await q.closed();
      return 'ok';
    } catch (err) {
      return (err as { serverCode?: string }).serverCode ?? String(err);
    }
  };
  for (let i = 0; i < 3; i++) assert.equal(await attempt(`AT_quicguess${i}_${'s'.repeat(24)}`), 'unauthorized');
  assert.equal(await attempt(good), 'rate_limited');
  const m = await relay.metricsText();
  assert.equal(metricValue(m, 'fastpubsub_auth_failures_total', { edge: 'quic', reason: 'unauthorized' }), 3);
  assert.equal(metricValue(m, 'fastpubsub_auth_failures_total', { edge: 'quic', reason: 'throttled' }), 1);
});
