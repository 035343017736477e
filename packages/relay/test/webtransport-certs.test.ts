// Rotation of the WebTransport development certificate (edge/webtransport/certs.ts) on a
// chosen clock: the next certificate is published at half-life, served from 3/4 of the life,
// and every published hash belongs to a certificate still valid and ≤ 14 days long.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { DEV_CERT_VALID_MS, WebTransportDevCerts } from '../src/edge/webtransport/index.js';

const DAY = 24 * 3600_000;

test('dev certificates: two overlapping hashes, the next one served before the first expires', () => {
  let now = Date.UTC(2026, 11, 7);
  const served: string[] = [];
  const certs = new WebTransportDevCerts({ names: ['127.0.0.1'], now: () => now, onServe: (c) => served.push(c.sha256.toString('base64')) });
  const first = certs.serving;
  assert.ok(first.notAfter - first.notBefore <= 14 * DAY);
  assert.ok(DEV_CERT_VALID_MS <= 14 * DAY);
  const x = new X509Certificate(first.certPem);
  assert.equal(x.publicKey.asymmetricKeyType, 'ec');
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(certs.hashes().length, 1);

  now += 6 * DAY; // before half-life: nothing new
  certs.tick();
  assert.equal(certs.hashes().length, 1);
  now += 1 * DAY; // past half-life: the next one is published, the first still served
  certs.tick();
  const both = certs.hashes().map((h) => h.value);
  assert.equal(both.length, 2);
  assert.equal(both[0], first.sha256.toString('base64'));
  assert.equal(certs.serving, first);
  assert.deepEqual(served, []);

  now += 3 * DAY; // past 3/4: the next one is served, before the first expires
  certs.tick();
  assert.ok(now < first.notAfter);
  assert.deepEqual(served, [both[1]]);
  assert.equal(certs.serving.sha256.toString('base64'), both[1]);
  assert.deepEqual(certs.hashes().map((h) => h.value), [both[1]]);
});
