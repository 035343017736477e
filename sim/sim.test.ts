import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CITIES } from './cities.js';
import { renderReport } from './report.js';
import { runSimulation } from './run.js';

// A reduced world (12 PoPs spread over the continents) so the test runs in seconds.
const SMALL = CITIES.filter((c) => ['tyo', 'sin', 'bom', 'dxb', 'fra', 'lon', 'jnb', 'syd', 'lax', 'nyc', 'gru', 'mex'].includes(c.id));

describe('world simulation (reduced)', () => {
  const r = runSimulation({ seed: 7, cities: SMALL, warmupMs: 6000, trafficWindowMs: 3000, linkFailures: 2, nodeFailure: true });

  it('converges: every pair routed, no route worse than direct beyond the margin, near optimal', () => {
    assert.ok(r.convergedAtMs < 3000, `converged at ${r.convergedAtMs} ms`);
    assert.equal(r.overlay.pairs, SMALL.length * (SMALL.length - 1));
    assert.equal(r.overlay.worseThanDirect, 0);
    assert.ok(r.overlay.optimalShare > 0.95, `optimal share ${r.overlay.optimalShare}`);
    assert.ok(r.overlay.shareImproved > 0 && r.overlay.shareImproved < 1);
    assert.ok(r.overlay.medianWinMs > 1);
  });

  it('recovers from link and PoP failures within about a second of detection', () => {
    for (const c of [...r.linkFailures, r.nodeFailure]) {
      assert.ok(c !== undefined);
      assert.ok(c.detectMs > 0 && c.detectMs < 1500, `${c.what}: detected after ${c.detectMs} ms`);
      assert.ok(Number.isFinite(c.convergedMs) && c.convergedMs < 3000, `${c.what}: valid after ${c.convergedMs} ms`);
    }
  });

  it('reports sane control traffic and is deterministic', () => {
    assert.ok(r.traffic !== undefined);
    // ~1 full advert per neighbour per second plus some triggered ones.
    assert.ok(r.traffic.advertsPerSec >= 0.8 * (SMALL.length - 1) && r.traffic.advertsPerSec < 5 * SMALL.length, `${r.traffic.advertsPerSec}`);
    assert.ok(r.traffic.bytesPerSec > 0);
    const again = runSimulation({ seed: 7, cities: SMALL, warmupMs: 6000, trafficWindowMs: 3000, linkFailures: 2, nodeFailure: true });
    assert.equal(renderReport(again, [], 7), renderReport(r, [], 7));
  });
});
