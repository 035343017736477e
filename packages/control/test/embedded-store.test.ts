import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedControlStore } from '@fastpubsub/control';

test('the embedded control store survives a reopen: puts, deletions and TTL records', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fps-control-store-'));
  let now = 1_000_000;
  try {
    const s = await EmbeddedControlStore.open(dir, { now: () => now });
    assert.equal(await s.put('tenant', 'acme', { name: 'Acme' }), true);
    assert.equal(await s.put('tenant', 'acme', { name: 'again' }, { ifAbsent: true }), false);
    await s.put('tenant', 'gone', { name: 'Gone' });
    await s.delete('tenant', 'gone');
    await s.put('pop', 'eu-1', { url: 'x' }, { ttlMs: 5000 });
    await s.close();
    const r = await EmbeddedControlStore.open(dir, { now: () => now });
    assert.deepEqual(await r.get('tenant', 'acme'), { name: 'Acme' });
    assert.equal(await r.get('tenant', 'gone'), undefined);
    assert.deepEqual(await r.get('pop', 'eu-1'), { url: 'x' });
    await r.close();
    now += 10_000; // past the TTL: the registry entry is gone after a reopen
    const later = await EmbeddedControlStore.open(dir, { now: () => now });
    assert.equal(await later.get('pop', 'eu-1'), undefined);
    assert.deepEqual(await later.get('tenant', 'acme'), { name: 'Acme' });
    await later.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
