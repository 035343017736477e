// CPU load must not look like network latency: every relay process runs a busy loop that blocks
// its event loop 40 ms out of every 100 (so JavaScript-timed probe RTTs would be inflated by up
// to 40 ms at random, enough to flip a 20 ms margin). Link RTTs come from the QUIC stack's own
// path estimate, so Tokyo's route to Frankfurt stays on the 220 ms path via Singapore instead
// of flipping to the 240 ms direct link.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DevCluster } from '@fastpubsub/cli';
import { cluster, routes, sleep, waitPath } from './mesh-helpers.js';

const topology = JSON.parse(readFileSync(new URL('../../../topologies/default.json', import.meta.url), 'utf8')) as unknown;
const busyLoop = fileURLToPath(new URL('./fixtures/busy-loop.mjs', import.meta.url));
let c: DevCluster;

before(async () => {
  // Children inherit the environment: each relay preloads the busy loop.
  const saved = { opts: process.env['NODE_OPTIONS'], busy: process.env['FPS_TEST_BUSY_MS'], period: process.env['FPS_TEST_BUSY_PERIOD_MS'] };
  process.env['NODE_OPTIONS'] = `${saved.opts ?? ''} --import=${busyLoop}`.trim();
  process.env['FPS_TEST_BUSY_MS'] = '40';
  process.env['FPS_TEST_BUSY_PERIOD_MS'] = '100';
  try {
    c = await cluster(topology, { readyTimeoutMs: 40_000 });
  } finally {
    for (const [k, v] of [['NODE_OPTIONS', saved.opts], ['FPS_TEST_BUSY_MS', saved.busy], ['FPS_TEST_BUSY_PERIOD_MS', saved.period]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

after(async () => {
  await c?.stop();
});

test('with every relay\'s event loop 40 % busy, the Tokyo → Frankfurt route holds the 220 ms relayed path', async () => {
  await waitPath(c, 'tokyo', 'frankfurt', ['tokyo', 'singapore', 'frankfurt'], 60_000);
  const seen = new Map<string, number>();
  let maxCost = 0;
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const r = (await routes(c, 'tokyo')).find((x) => x.dest === 'frankfurt');
    const key = r?.path.join('→') ?? 'none';
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (r !== undefined) maxCost = Math.max(maxCost, r.pathLatencyMs);
    await sleep(200);
  }
  // The route's cost (RTT plus jitter and loss terms) still moves under load: probe replies the
  // busy relays answer late count as lost. What must hold is the path.
  assert.deepEqual([...seen.keys()], ['tokyo→singapore→frankfurt'], `routes seen under load: ${JSON.stringify(Object.fromEntries(seen))} (max cost ${maxCost} ms)`);
});
