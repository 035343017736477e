// A revoked token ends the client with a terminal `unauthorized` error: the relay closes the
// connection, the reconnect is refused with 401, and no token provider can help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, revokeToken, ClientError } from '../src/node.js';
import { MASTER, makeToken, startTestRelay } from './helpers.js';

test('revoked token without a provider: closed with unauthorized, no endless reconnects', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await connect({ endpoint: r.relay.httpUrl, token, reconnect: { baseDelayMs: 20, maxDelayMs: 100 } });
  t.after(() => client.close());
  const attempts: number[] = [];
  client.on('reconnecting', (e) => attempts.push(e.attempt));
  await revokeToken({ token }, { url: r.relay.httpUrl, masterToken: MASTER });
  const error = await Promise.race([client.closed(), new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 8000))]);
  assert.ok(error instanceof ClientError, `closed with ${String(error)}`);
  assert.equal(error.code, 'unauthorized');
  assert.equal(client.state, 'closed');
  assert.ok(attempts.length <= 1, `reconnect attempts: ${attempts.join(',')}`);
  assert.throws(() => client.publish('t1', 'x', 'after'), (e: unknown) => e instanceof ClientError && e.code === 'closed');
});

test('revoked token with a provider that hands out revoked tokens: one refresh, then unauthorized', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  let provided = 0;
  const client = await connect({
    endpoint: r.relay.httpUrl,
    token,
    tokenProvider: async () => {
      provided++;
      return token; // the same, now revoked, token
    },
    reconnect: { baseDelayMs: 20, maxDelayMs: 100 },
  });
  t.after(() => client.close());
  await revokeToken({ token }, { url: r.relay.httpUrl, masterToken: MASTER });
  const error = await Promise.race([client.closed(), new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 8000))]);
  assert.ok(error instanceof ClientError && error.code === 'unauthorized', `closed with ${String(error)}`);
  assert.equal(provided, 1);
});
