// Edge selection against real relays: the fastest of three edges (two behind delaying TCP
// proxies) and a discovery URL as bootstrap. Reconnect behaviour is in resilience.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, probeEdges, parseEdge, type Message } from '../src/node.js';
import { makeToken, startProxy, startTestRelay, text } from './helpers.js';

test('among three edges, the one behind a +150 ms proxy is not chosen; the fastest is', async (t) => {
  const relays = await Promise.all([startTestRelay(), startTestRelay(), startTestRelay()]);
  t.after(() => Promise.all(relays.map((r) => r.close())));
  const slow = await startProxy(relays[0].relay.port, { delayMs: 150 });
  const medium = await startProxy(relays[1].relay.port, { delayMs: 40 });
  t.after(() => Promise.all([slow.close(), medium.close()]));
  const fast = relays[2].relay.httpUrl;
  const bootstrap = [slow.url, medium.url, fast];
  const probes = await probeEdges(bootstrap.map((b) => parseEdge(b)));
  assert.ok(probes.every((p) => p.ok));
  assert.ok(probes[0]!.rttMs! >= 150, `slow edge rtt ${probes[0]!.rttMs}`);
  const { token } = await makeToken(fast);
  const client = await connect({ bootstrap, token });
  t.after(() => client.close());
  assert.equal(client.edge?.httpUrl, fast);
  const sub = await client.subscribe('t1', 'x');
  client.publish('t1', 'x', 'via fastest');
  const m = await sub[Symbol.asyncIterator]().next();
  assert.equal(text((m.value as Message).payload), 'via fastest');
});

test('bootstrap as a discovery URL returning {"edges":[…]}', async (t) => {
  const r = await startTestRelay();
  t.after(() => r.close());
  const { token } = await makeToken(r.relay.httpUrl);
  const client = await connect({ bootstrap: `${r.relay.httpUrl}/v1/edges`, token });
  t.after(() => client.close());
  assert.equal(client.edge?.httpUrl, r.relay.httpUrl);
  assert.equal(client.edge?.wsUrl, r.relay.wsUrl);
});
