// The attack suite at reduced sizes, one test per attack: each must be defended by the relay
// and the healthy client must be served throughout (real relay process, real sockets, loopback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACKS, formatRow } from './suite.js';
import { healthyServed } from './types.js';

for (const a of ATTACKS) {
  test(`attack ${a.name} (reduced sizes): defended, healthy client served`, { timeout: 110_000 }, async () => {
    const r = await a.run({ small: true });
    const text = formatRow(r);
    assert.ok(r.defended, `not defended:\n${text}`);
    assert.ok(healthyServed(r.healthy), `healthy client not served:\n${text}`);
  });
}
