// The pure parts of connection insights: the space-saving sketch's guarantee, User-Agent
// classes, and the churn and auth-failure windows (with a test clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ConnectionInsights, SpaceSaving, classifyUserAgent } from '../src/telemetry/index.js';
import { metricValue } from '@fastpubsub/testkit/relay';

test('space-saving: every key above total/capacity is held, never underestimated, within its error', () => {
  const sketch = new SpaceSaving<string>(50); // total/50 = 135: all three heavy keys are above it
  const truth = new Map<string, number>();
  // 3 heavy keys among 5000 distinct light ones, interleaved.
  for (let i = 0; i < 5000; i++) {
    for (const [key, every] of [['h1', 5], ['h2', 10], ['h3', 20]] as const) {
      if (i % every === 0) {
        sketch.record(key);
        truth.set(key, (truth.get(key) ?? 0) + 1);
      }
    }
    sketch.record(`light.${i}`);
  }
  assert.equal(sketch.size, 50);
  assert.equal(sketch.total, 5000 + 1000 + 500 + 250);
  const top = sketch.top(3);
  assert.deepEqual(top.map((h) => h.key), ['h1', 'h2', 'h3']);
  for (const h of top) {
    const real = truth.get(h.key)!;
    assert.ok(h.count >= real && h.count - h.error <= real, `${h.key}: estimate ${h.count} (error ${h.error}) vs ${real}`);
  }
  assert.throws(() => new SpaceSaving(0), RangeError);
});

test('User-Agent classes', () => {
  assert.equal(classifyUserAgent(undefined), 'none');
  assert.equal(classifyUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15'), 'browser');
  assert.equal(classifyUserAgent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36'), 'crawler');
  assert.equal(classifyUserAgent('Mozilla/5.0 (compatible; bingbot/2.0)'), 'crawler');
  assert.equal(classifyUserAgent('curl/8.5.0'), 'scripted');
  assert.equal(classifyUserAgent('Go-http-client/1.1'), 'scripted');
  assert.equal(classifyUserAgent('fastpubsub-go/0.1'), 'sdk');
  assert.equal(classifyUserAgent('SomethingElse/1'), 'other');
});

test('churn and auth failures: flags from the address window, cleared by a new window; per-tenant countries and flags', async () => {
  let now = 0;
  const registry = new Registry();
  const insights = new ConnectionInsights({ registry, now: () => now, thresholds: { churnConnections: 3, authFailures: 2, windowMs: 10_000 } });
  const open = (ip: string, tenants = ['t']) => insights.opened({ edge: 'ws', ip, tenants, tokenId: 'tok', userAgent: 'curl/8' });
  const a = open('133.11.250.250');
  const b = open('133.11.250.250');
  assert.equal(a.flags.size + b.flags.size, 0);
  const c = open('133.11.250.250');
  assert.deepEqual([...c.flags], ['churn'], 'the third connection within the window');
  insights.authFailed('193.99.145.250');
  insights.authFailed('193.99.145.250');
  const d = open('193.99.145.250', ['u']);
  assert.deepEqual([...d.flags], ['auth_failures']);
  assert.deepEqual(insights.countries('t'), { JP: 3 });
  assert.deepEqual(insights.flagged('u').map((f) => [f.country, f.flags]), [['DE', ['auth_failures']]]);
  let text = await registry.metrics();
  assert.equal(metricValue(text, 'fastpubsub_churning_addresses'), 1);
  assert.equal(metricValue(text, 'fastpubsub_bot_flags_total', { flag: 'churn' }), 1);
  now = 10_000; // a new window
  assert.equal(open('133.11.250.250').flags.size, 0);
  a.closed();
  a.closed(); // idempotent
  b.closed();
  text = await registry.metrics();
  assert.equal(metricValue(text, 'fastpubsub_connections_by_country', { country: 'JP' }), 2);
  assert.equal(metricValue(text, 'fastpubsub_flagged_connections', { flag: 'churn' }), 1);
  // impossible rate: a scripted client over publishesPerSec in one tick
  const rates = new ConnectionInsights({ registry: new Registry(), now: () => now, thresholds: { publishesPerSec: 5 } });
  const fast = rates.opened({ edge: 'quic', ip: '::1', tenants: [], tokenId: 't2' });
  for (let i = 0; i < 5; i++) fast.published();
  rates.tick();
  assert.equal(fast.flags.size, 0, 'at the limit');
  for (let i = 0; i < 6; i++) fast.published();
  rates.tick();
  assert.deepEqual([...fast.flags], ['impossible_rate']);
});
