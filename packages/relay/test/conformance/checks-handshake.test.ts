// Contract v0.1 §9 checks 1, 2, 3, 18, 19, 20, 21: handshake, REST token lifecycle, discovery.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TestEnv,
  freePort,
  http,
  isoIn,
  issueToken,
  sleep,
  tokenBody,
  tokenId,
  within,
  type Relay,
} from '@fastpubsub/testkit/relay';
import { RawFrameReader, clientFrame, expectedAccept, rawUpgrade } from './rawws.js';

const env = new TestEnv();
afterEach(() => env.cleanup());

/** Check 1 against any host:port: exact 101 headers, no extension, token never echoed, then PING→PONG. */
async function assertCheck1(host: string, port: number, token: string, path = '/ws'): Promise<void> {
  const r = await rawUpgrade(host, port, { path, protocol: `llps.v1,at.${token}` });
  env.trackSocket(r.socket);
  assert.equal(r.status, 101, `expected 101, got ${r.statusLine}`);
  assert.deepEqual(r.headers.get('upgrade'), ['websocket']);
  assert.deepEqual(r.headers.get('connection'), ['Upgrade']);
  assert.deepEqual(r.headers.get('sec-websocket-accept'), [expectedAccept(r.key)]);
  assert.deepEqual(r.headers.get('sec-websocket-protocol'), ['llps.v1']);
  assert.equal(r.headers.get('sec-websocket-extensions'), undefined, 'no extensions may be negotiated');
  assert.ok(!r.rawHead.includes(token), 'the access token must never be echoed');
  assert.ok(!r.rawHead.includes(token.slice(token.lastIndexOf('_') + 1)), 'the token secret must never be echoed');
  assert.ok(!/at\./i.test(r.rawHead.split('\r\n').filter((l) => /^sec-websocket-protocol/i.test(l)).join()), 'no at. entry echoed');
  const reader = new RawFrameReader(r.socket, r.leftover);
  r.socket.write(clientFrame(0x1, Buffer.from('PING')));
  const f = await reader.next(2000);
  assert.equal(f.opcode, 0x1, 'PONG is a text frame');
  assert.equal(f.payload.toString('utf8'), 'PONG');
  r.socket.destroy();
}

async function assertStatus(relay: Relay, expected: number, opts: Parameters<typeof rawUpgrade>[2]): Promise<void> {
  const r = await rawUpgrade(relay.host, relay.port, opts);
  env.trackSocket(r.socket);
  assert.equal(r.status, expected, `expected ${expected}, got ${r.statusLine}`);
  r.socket.destroy();
}

describe('contract v0.1 conformance: handshake and REST', () => {
  test('check 1: llps.v1,at.<AT> gets 101 with exactly Sec-WebSocket-Protocol: llps.v1 and no extensions', async () => {
    const relay = await env.relay();
    const token = await env.token(relay);
    await assertCheck1(relay.host, relay.port, token, '/ws');
    await assertCheck1(relay.host, relay.port, token, '/'); // docs use `/` too (contract §2)
    // Even when a client offers permessage-deflate, none is negotiated ("No deflate").
    const r = await rawUpgrade(relay.host, relay.port, {
      protocol: `llps.v1,at.${token}`,
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' },
    });
    env.trackSocket(r.socket);
    assert.equal(r.status, 101);
    assert.equal(r.headers.get('sec-websocket-extensions'), undefined);
    r.socket.destroy();
  });

  test('check 2: "llps.v1, at.<AT>" (with a space) and Bearer auth with llps.v1 both get 101', async () => {
    const relay = await env.relay();
    const token = await env.token(relay);
    const spaced = await rawUpgrade(relay.host, relay.port, { protocol: `llps.v1, at.${token}` });
    env.trackSocket(spaced.socket);
    assert.equal(spaced.status, 101, spaced.statusLine);
    assert.deepEqual(spaced.headers.get('sec-websocket-protocol'), ['llps.v1']);
    spaced.socket.destroy();

    const bearer = await rawUpgrade(relay.host, relay.port, { protocol: 'llps.v1', headers: { Authorization: `Bearer ${token}` } });
    env.trackSocket(bearer.socket);
    assert.equal(bearer.status, 101, bearer.statusLine);
    assert.deepEqual(bearer.headers.get('sec-websocket-protocol'), ['llps.v1']);
    assert.ok(!bearer.rawHead.includes(token));
    bearer.socket.destroy();

    // And a real client library works with Bearer auth end to end.
    const c = await env.connect(relay, undefined, { protocols: ['llps.v1'], headers: { Authorization: `Bearer ${token}` } });
    assert.equal(c.ws.protocol, 'llps.v1');
    await c.ping();
  });

  test('check 3: a bad, expired or absent token gets 401 before the upgrade', async () => {
    const relay = await env.relay();
    const expiring = await env.token(relay, { expires_at: isoIn(1500) });
    const expiresAt = Date.now() + 1500;
    const good = await env.token(relay);
    const cases: [string, Parameters<typeof rawUpgrade>[2]][] = [
      ['absent (llps.v1 only)', { protocol: 'llps.v1' }],
      ['absent (no subprotocol header)', {}],
      ['unknown id', { protocol: 'llps.v1,at.AT_00000000000000000000000000000000_00000000000000000000000000000000' }],
      ['not AT_ form', { protocol: 'llps.v1,at.garbage' }],
      ['empty id and secret', { protocol: 'llps.v1,at.AT__' }],
      ['bad Bearer', { protocol: 'llps.v1', headers: { Authorization: 'Bearer AT_deadbeef_cafebabe' } }],
      ['right id, wrong secret', { protocol: `llps.v1,at.AT_${tokenId(good)}_${'0'.repeat(32)}` }],
    ];
    // Every case is tried before asserting, so a failure report lists them all.
    const got: Record<string, number> = {};
    for (const [what, opts] of cases) {
      const r = await rawUpgrade(relay.host, relay.port, opts);
      env.trackSocket(r.socket);
      got[what] = r.status;
      r.socket.destroy();
    }
    assert.deepEqual(got, Object.fromEntries(cases.map(([what]) => [what, 401])));
    // The expiring token works now, and gets 401 once expired.
    await assertStatus(relay, 101, { protocol: `llps.v1,at.${expiring}` });
    await sleep(Math.max(0, expiresAt - Date.now()) + 300);
    await assertStatus(relay, 401, { protocol: `llps.v1,at.${expiring}` });
  });

  test('check 18: GET /ping gets 2xx with body pong', async () => {
    const relay = await env.relay();
    const r = await http(relay.httpUrl, 'GET', '/ping', { bearer: null, timeoutMs: 3000 });
    assert.ok(r.status >= 200 && r.status < 300, `status ${r.status}`);
    assert.equal(r.text.trim(), 'pong');
  });

  test('check 19: a get-token token passes check 1; a bad MT gets 401; expires_at 25 h ahead gets 400', async () => {
    const relay = await env.relay();
    const r = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody() });
    assert.ok(r.status >= 200 && r.status < 300, `get-token: ${r.status} ${r.text}`);
    const token = (r.json as { token: string }).token;
    assert.match(token, /^AT_[0-9a-f]{32}_[0-9a-f]{32}$/, 'AT_{32 hex}_{32 hex} (contract §7)');
    await assertCheck1(relay.host, relay.port, token);

    const badMt = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody(), bearer: 'wrong-master-token' });
    assert.equal(badMt.status, 401, `bad MT: ${badMt.text}`);
    const noMt = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody(), bearer: null });
    assert.equal(noMt.status, 401, `no MT: ${noMt.text}`);
    // An access token is not a master token.
    const atAsMt = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody(), bearer: token });
    assert.equal(atAsMt.status, 401);

    const tooLong = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody({ expires_at: isoIn(25 * 3600_000) }) });
    assert.equal(tooLong.status, 400, `25 h: ${tooLong.text}`);
    const malformed = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody({ expires_at: 'tomorrow' }) });
    assert.equal(malformed.status, 400, `malformed expires_at: ${malformed.text}`);
    const blankCreator = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody({}, { created_by: '  ' }) });
    assert.equal(blankCreator.status, 400, `blank created_by: ${blankCreator.text}`);
    const noGrant = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody({ tenant_grants: [] }) });
    assert.equal(noGrant.status, 400, `no grant: ${noGrant.text}`);

    // Offsets and fractional seconds are accepted (contract §7).
    const inTwoHours = new Date(Date.now() + 2 * 3600_000);
    const withOffset = new Date(inTwoHours.getTime() + 2 * 3600_000).toISOString().replace(/\.\d+Z$/, '.123456+02:00');
    const off = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody({ expires_at: withOffset }) });
    assert.ok(off.status >= 200 && off.status < 300, `expires_at ${withOffset}: ${off.status} ${off.text}`);
    // ~23 h 59 min (the SDK clamps to client time − 1 s + 24 h) is accepted.
    const nearMax = await http(relay.httpUrl, 'POST', '/v1/get-token', { body: tokenBody({ expires_at: isoIn(24 * 3600_000 - 1000) }) });
    assert.ok(nearMax.status >= 200 && nearMax.status < 300, `24 h − 1 s: ${nearMax.status} ${nearMax.text}`);
  });

  test('check 20: refresh returns both fields; after revoke (DELETE with JSON body) check 1 gets 401', async () => {
    const relay = await env.relay();
    const token = await env.token(relay);
    const refreshed = await http(relay.httpUrl, 'PUT', '/v1/refresh-token', {
      body: { token_id: tokenId(token), expires_at: isoIn(2 * 3600_000) },
    });
    assert.ok(refreshed.status >= 200 && refreshed.status < 300, `refresh: ${refreshed.status} ${refreshed.text}`);
    const body = refreshed.json as { message?: unknown; new_expires_at?: unknown };
    assert.equal(typeof body.message, 'string', `refresh reply: ${refreshed.text}`);
    assert.equal(typeof body.new_expires_at, 'string', `refresh reply: ${refreshed.text}`);
    assert.ok(Number.isFinite(Date.parse(body.new_expires_at as string)), 'new_expires_at is a timestamp');
    const badMt = await http(relay.httpUrl, 'PUT', '/v1/refresh-token', {
      body: { token_id: tokenId(token), expires_at: isoIn(3600_000) },
      bearer: 'nope',
    });
    assert.equal(badMt.status, 401);
    await assertCheck1(relay.host, relay.port, token); // refresh changed only the expiry

    const revokeBadMt = await http(relay.httpUrl, 'DELETE', '/v1/revoke-token', { body: { token }, bearer: 'nope' });
    assert.equal(revokeBadMt.status, 401);
    const revoked = await http(relay.httpUrl, 'DELETE', '/v1/revoke-token', { body: { token } });
    assert.ok(revoked.status >= 200 && revoked.status < 300, `revoke: ${revoked.status} ${revoked.text}`);
    assert.equal(typeof (revoked.json as { message?: unknown } | undefined)?.message, 'string', `revoke reply: ${revoked.text}`);
    const r = await rawUpgrade(relay.host, relay.port, { protocol: `llps.v1,at.${token}` });
    env.trackSocket(r.socket);
    assert.equal(r.status, 401, `after revoke: ${r.statusLine}`);
    r.socket.destroy();
  });

  test('check 20 (expiry): an expired token cannot be refreshed', async () => {
    const relay = await env.relay();
    const token = await env.token(relay, { expires_at: isoIn(1000) });
    await sleep(1300);
    const r = await http(relay.httpUrl, 'PUT', '/v1/refresh-token', {
      body: { token_id: tokenId(token), expires_at: isoIn(3600_000) },
    });
    assert.ok(r.status >= 400, `refreshing an expired token must fail, got ${r.status} ${r.text}`);
    await assertStatus(relay, 401, { protocol: `llps.v1,at.${token}` });
  });

  test('check 21: every bootstrap host passes checks 1 and 18', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const edges = [`127.0.0.1:${pa}`, `127.0.0.1:${pb}`];
    const a = await env.relay({ listen: { host: '127.0.0.1', port: pa }, discovery: { edges } });
    await env.relay({ listen: { host: '127.0.0.1', port: pb }, discovery: { edges } });
    const doc = await http(a.httpUrl, 'GET', '/v1/edges', { bearer: null });
    assert.ok(doc.status >= 200 && doc.status < 300, `GET /v1/edges: ${doc.status}`);
    const list = (doc.json as { edges?: unknown } | undefined)?.edges;
    assert.ok(Array.isArray(list) && list.length > 0, `edges must be a non-empty list: ${doc.text}`);
    const hosts = list.map((e: unknown) => {
      const h = typeof e === 'string' ? e : (e as { host?: unknown }).host;
      assert.equal(typeof h, 'string', `edge entry ${JSON.stringify(e)}`);
      return (h as string).trim().replace(/\/$/, '');
    });
    assert.deepEqual([...hosts].sort(), [...edges].sort());
    for (const host of hosts) {
      const ping = await http(`http://${host}`, 'GET', '/ping', { bearer: null, timeoutMs: 3000 });
      assert.ok(ping.status >= 200 && ping.status < 300, `${host} /ping: ${ping.status}`);
      assert.equal(ping.text.trim(), 'pong', `${host} /ping body`);
      const token = await issueToken(`http://${host}`);
      const [h, p] = host.split(':');
      await within(assertCheck1(h ?? '', Number(p), token), 5000, `check 1 on ${host}`);
    }
  });
});
