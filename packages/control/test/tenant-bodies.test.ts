// Request bodies of the tenant routes are checked by JSON schemas: each failure is a
// bad_request naming the field, a duplicate tenant is a conflict (409), unknown keys are ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, createLogger, httpStatusFor, isFpsError } from '@fastpubsub/core';
import { ControlService, EmbeddedControlStore } from '@fastpubsub/control';
import { WatchHub } from '../src/hub.js';

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    assert.ok(isFpsError(err), String(err));
    return { code: err.code, message: err.message };
  }
  assert.fail('expected a rejection');
}

test('tenant bodies: schema errors name the field; a second create is a 409 conflict', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fps-tenant-bodies-'));
  const store = await EmbeddedControlStore.open(dir, { now: () => 1000 });
  try {
    const hub = new WatchHub(store, () => 1000, createLogger({ level: 'silent' }));
    const { tenants } = new ControlService({ store, hub, now: () => 1000, popLeaseMs: 10_000 });
    const cases: Array<[unknown, string]> = [
      [[], 'body must be a JSON object'],
      [{}, 'id must be 1-128 characters of A-Za-z0-9_-~@.'],
      [{ id: 'has space' }, 'id must be 1-128 characters of A-Za-z0-9_-~@.'],
      [{ id: 'x'.repeat(129) }, 'id must be 1-128 characters of A-Za-z0-9_-~@.'],
      [{ id: 'ok', name: 7 }, 'name must be a string of at most 256 characters'],
      [{ id: 'ok', name: 'n'.repeat(257) }, 'name must be a string of at most 256 characters'],
    ];
    for (const [body, message] of cases) {
      assert.deepEqual(await rejection(tenants.createTenant(body)), { code: ErrorCode.BadRequest, message }, JSON.stringify(body));
    }
    const made = await tenants.createTenant({ id: 'acme-1', extra: true });
    assert.deepEqual(made, { id: 'acme-1', name: 'acme-1', createdAtMs: 1000 });
    const again = await rejection(tenants.createTenant({ id: 'acme-1' }));
    assert.equal(again.code, ErrorCode.Conflict);
    assert.equal(httpStatusFor(ErrorCode.Conflict), 409);
    assert.deepEqual(await rejection(tenants.updateTenant('acme-1', { name: 1 })), { code: ErrorCode.BadRequest, message: 'name must be a string' });
    assert.equal((await tenants.updateTenant('acme-1', { name: 'Acme' })).name, 'Acme');
    assert.equal((await tenants.updateTenant('acme-1', {})).name, 'Acme', 'an absent name keeps the old one');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
