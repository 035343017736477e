// The relay's OpenAPI document: served at /openapi.json, and every documented path and method
// is routed on a real relay (never a 404), so the document cannot name routes that do not exist.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayOpenapi, startRelay, type Relay } from '@fastpubsub/relay';
import { MASTER_TOKEN } from '@fastpubsub/testkit/relay';

let relay: Relay;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fps-openapi-'));
  relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER_TOKEN, dataDir: dir, logLevel: 'silent', quic: { enabled: false } });
});

after(async () => {
  await relay?.close({ graceMs: 0 });
  await rm(dir, { recursive: true, force: true });
});

test('GET /openapi.json serves the document', async () => {
  const res = await fetch(`${relay.httpUrl}/openapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(Object.keys(doc.paths).sort(), Object.keys(relayOpenapi.paths).sort());
});

test('every documented path and method is routed (no 404, no 405)', async () => {
  for (const [path, item] of Object.entries(relayOpenapi.paths)) {
    const concrete = path.replace('{tenant}', 't1').replace('{channel}', 'a.b').replace('{hookId}', 'h1');
    for (const method of Object.keys(item)) {
      const res = await fetch(relay.httpUrl + concrete, { method: method.toUpperCase(), signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      // A 404 about the resource (no mesh here, no such hook) is fine; a 404 for the route is not.
      assert.ok(res.status !== 404 || path.startsWith('/v1/mesh/') || !text.includes('no route'), `${method} ${path}: 404 ${text}`);
      assert.notEqual(res.status, 405, `${method} ${path}: 405`);
    }
  }
});
