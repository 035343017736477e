import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RouterOptions } from '../src/mesh/route/index.js';
import { RouterNetwork } from '../../../sim/netsim.js';

const HOLD = 2000;
const DEGRADED_HOLD = 500;
const opts: Omit<RouterOptions, 'id'> = { switchHoldMs: HOLD, switchMarginMs: 1, switchMarginRatio: 0.05, hopCostMs: 0.5 };

function network(detectMs = 0): RouterNetwork {
  return new RouterNetwork({ router: opts, detectMs, seed: 7 });
}

/** Tokyo–Frankfurt 240 ms direct, 220 ms via Singapore: the seed's example. */
function triangle(): RouterNetwork {
  const net = network();
  for (const id of ['tyo', 'fra', 'sin']) net.addNode(id);
  net.addLink('tyo', 'fra', { oneWayMs: 240 });
  net.addLink('tyo', 'sin', { oneWayMs: 100 });
  net.addLink('sin', 'fra', { oneWayMs: 119.5 });
  return net;
}

/** Polls every `stepMs` until `pred` holds; returns the simulated time it first held. */
function runUntilTrue(net: RouterNetwork, pred: () => boolean, limitMs: number, stepMs = 5): number {
  const end = net.now + limitMs;
  while (net.now < end) {
    if (pred()) return net.now;
    net.runUntil(net.now + stepMs);
  }
  assert.fail(`condition not reached within ${limitMs} ms`);
}

describe('Router: path choice', () => {
  it('chooses the relayed path when it is cheaper than the direct link', () => {
    const net = triangle();
    net.runUntil(3000);
    const r = net.router('tyo').route('fra');
    assert.ok(r);
    assert.equal(r.nextHop, 'sin');
    assert.deepEqual(r.path, ['tyo', 'sin', 'fra']);
    assert.equal(r.cost, 220);
    assert.equal(r.directCost, 240);
    // And the other direction too.
    assert.deepEqual(net.router('fra').route('tyo')?.path, ['fra', 'sin', 'tyo']);
  });

  it('returns to the direct path after it improves, no sooner than the hold time', () => {
    const net = triangle();
    net.runUntil(5000);
    const t0 = net.now;
    net.setLink('tyo', 'fra', { oneWayMs: 150 });
    net.runUntil(t0 + HOLD - 50);
    assert.equal(net.router('tyo').nextHop('fra'), 'sin', 'switched before the hold time');
    const at = runUntilTrue(net, () => net.router('tyo').nextHop('fra') === 'fra', 2000);
    assert.ok(at - t0 >= HOLD && at - t0 <= HOLD + 100, `switched after ${at - t0} ms`);
    assert.equal(net.router('tyo').route('fra')?.cost, 150);
  });

  it('does not switch for an improvement inside the margin', () => {
    const net = triangle();
    net.runUntil(3000);
    net.setLink('tyo', 'fra', { oneWayMs: 219 }); // 1 ms better, margin is 5 %
    net.runUntil(20_000);
    assert.equal(net.router('tyo').nextHop('fra'), 'sin');
  });

  it('leaves a path that got worse after the short degraded hold, not the full one', () => {
    const net = triangle();
    net.runUntil(3000);
    const t0 = net.now;
    net.setLink('tyo', 'sin', { oneWayMs: 200 });
    const at = runUntilTrue(net, () => net.router('tyo').nextHop('fra') === 'fra', HOLD, 1);
    assert.ok(at - t0 >= DEGRADED_HOLD && at - t0 <= DEGRADED_HOLD + 100, `took ${at - t0} ms`);
  });

  it('a spike on the current path shorter than the degraded hold moves nothing', () => {
    const net = triangle();
    net.runUntil(3000);
    const before = net.changes.length;
    net.setLink('tyo', 'sin', { oneWayMs: 200 });
    net.runUntil(net.now + DEGRADED_HOLD - 100);
    net.setLink('tyo', 'sin', { oneWayMs: 70 });
    net.runUntil(net.now + 5000);
    assert.equal(net.router('tyo').nextHop('fra'), 'sin');
    assert.equal(net.changes.slice(before).filter((c) => c.node === 'tyo' && c.dest === 'fra').length, 0);
  });

  it('matches shortest paths on a random full mesh', () => {
    const net = network();
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (const id of ids) net.addNode(id);
    let x = 12345;
    const lat = new Map<string, number>();
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        const ms = 10 + (x % 90);
        lat.set(`${ids[i]}${ids[j]}`, ms);
        lat.set(`${ids[j]}${ids[i]}`, ms);
        net.addLink(ids[i] as string, ids[j] as string, { oneWayMs: ms });
      }
    }
    net.runUntil(5000);
    // Floyd–Warshall with the same hop cost.
    const d = new Map<string, number>();
    for (const a of ids) for (const b of ids) d.set(a + b, a === b ? 0 : (lat.get(a + b) as number));
    for (const k of ids)
      for (const a of ids)
        for (const b of ids) {
          const via = (d.get(a + k) as number) + 0.5 + (d.get(k + b) as number);
          if (k !== a && k !== b && via < (d.get(a + b) as number)) d.set(a + b, via);
        }
    for (const a of ids)
      for (const b of ids) {
        if (a === b) continue;
        const r = net.router(a).route(b);
        assert.ok(r, `${a} has no route to ${b}`);
        const best = d.get(a + b) as number;
        assert.ok(r.cost <= best * 1.05 + 1 + 1e-9, `${a}->${b} ${r.cost} vs optimum ${best}`);
      }
  });
});

describe('Router: failures', () => {
  it('a dead relay: routes through it are replaced and the relay is withdrawn everywhere', () => {
    const detect = 800;
    const net = network(detect);
    const ids = ['tyo', 'fra', 'sin', 'bom', 'lon'];
    for (const id of ids) net.addNode(id);
    const ms: Record<string, number> = { 'tyo-fra': 240, 'tyo-sin': 100, 'sin-fra': 119.5, 'tyo-bom': 130, 'bom-fra': 100, 'lon-fra': 8, 'lon-tyo': 245, 'lon-sin': 130, 'lon-bom': 115, 'sin-bom': 40 };
    for (const [k, v] of Object.entries(ms)) {
      const [a, b] = k.split('-') as [string, string];
      net.addLink(a, b, { oneWayMs: v });
    }
    net.runUntil(5000);
    assert.equal(net.router('tyo').nextHop('fra'), 'sin');
    const t0 = net.now;
    net.killNode('sin');
    const alive = ids.filter((i) => i !== 'sin');
    const at = runUntilTrue(
      net,
      () => alive.every((a) => net.router(a).route('sin') === undefined && alive.every((b) => a === b || net.router(a).route(b)?.path.includes('sin') === false)),
      5000,
      1,
    );
    const convergence = at - t0 - detect;
    assert.ok(convergence >= 0 && convergence < 600, `converged ${convergence} ms after detection`);
    assert.deepEqual(net.router('tyo').route('fra')?.path, ['tyo', 'bom', 'fra']);
  });

  it('no count-to-infinity on a line when the far end dies', () => {
    const net = network(100);
    const ids = ['a', 'b', 'c', 'd'];
    for (const id of ids) net.addNode(id);
    net.addLink('a', 'b', { oneWayMs: 10 });
    net.addLink('b', 'c', { oneWayMs: 10 });
    net.addLink('c', 'd', { oneWayMs: 10 });
    net.runUntil(3000);
    assert.equal(net.router('a').route('d')?.cost, 31);
    const t0 = net.now;
    const before = net.changes.length;
    net.killNode('d');
    const at = runUntilTrue(net, () => ['a', 'b', 'c'].every((n) => net.router(n).route('d') === undefined), 2000, 1);
    assert.ok(at - t0 <= 100 + 50, `withdrawn after ${at - t0} ms`);
    // Each router lost its route once and never picked a bogus one on the way.
    const later = net.changes.slice(before).filter((c) => c.dest === 'd');
    assert.deepEqual(later.map((c) => [c.node, c.to]).sort(), [['a', undefined], ['b', undefined], ['c', undefined]]);
    net.runUntil(at + 10_000);
    assert.equal(net.changes.slice(before).filter((c) => c.dest === 'd').length, 3, 'a route to the dead node came back');
  });

  it('a restarted node (sequence numbers reset) becomes reachable again', () => {
    const net = network(100);
    for (const id of ['a', 'b', 'c']) net.addNode(id);
    net.addLink('a', 'b', { oneWayMs: 10 });
    net.addLink('b', 'c', { oneWayMs: 10 });
    net.runUntil(3000);
    net.killNode('c');
    net.runUntil(5000);
    assert.equal(net.router('a').route('c'), undefined);
    net.addNode('c');
    net.restoreLink('b', 'c');
    const t0 = net.now;
    const at = runUntilTrue(net, () => net.router('a').route('c') !== undefined, 2000, 1);
    assert.ok(at - t0 < 200, `reachable after ${at - t0} ms`);
    assert.ok(net.router('c').seq > 0, 'restarted node re-asserted with a higher number');
  });

  it('a dead link in a mesh fails over at once to the next best path', () => {
    const net = triangle();
    net.runUntil(3000);
    const t0 = net.now;
    net.failLink('tyo', 'sin');
    const at = runUntilTrue(net, () => net.router('tyo').nextHop('fra') === 'fra', 1000, 1);
    assert.ok(at - t0 <= 1);
    // Singapore is now reached through Frankfurt; nobody routes over the dead link.
    assert.deepEqual(net.router('tyo').route('sin')?.path, ['tyo', 'fra', 'sin']);
  });
});

describe('Router: flapping link (must show 4)', () => {
  /** a–b direct flaps between 10 ms and 100 ms one way; a–c–b is a steady 50.5 ms. */
  function flapping(halfPeriodMs: number, durationMs: number): { switches: number[]; goodSince: number[] } {
    const net = network();
    for (const id of ['a', 'b', 'c']) net.addNode(id);
    net.addLink('a', 'b', { oneWayMs: 10 });
    net.addLink('a', 'c', { oneWayMs: 25 });
    net.addLink('c', 'b', { oneWayMs: 25 });
    net.runUntil(3000);
    assert.equal(net.router('a').nextHop('b'), 'b');
    const start = net.now;
    const before = net.changes.length;
    const goodSince: number[] = [];
    let good = true;
    for (let t = start + halfPeriodMs; t <= start + durationMs; t += halfPeriodMs) {
      net.runUntil(t);
      good = !good;
      net.setLink('a', 'b', { oneWayMs: good ? 10 : 100 });
      if (good) goodSince.push(t);
    }
    const switches = net.changes.slice(before).filter((c) => c.node === 'a' && c.dest === 'b').map((c) => c.atMs);
    return { switches, goodSince };
  }

  it('flaps faster than the degraded hold: traffic never moves', () => {
    const { switches } = flapping(300, 30_000);
    assert.equal(switches.length, 0, `switched ${switches.length} times`);
  });

  it('flaps between the degraded hold and the full hold: one switch away, never back', () => {
    const { switches } = flapping(1000, 30_000);
    assert.equal(switches.length, 1, `switched ${switches.length} times`);
  });

  it('flaps slower than the hold time: every switch back waits out the hold', () => {
    const half = 3000;
    const duration = 60_000;
    const { switches, goodSince } = flapping(half, duration);
    // At most one "away" and one "back" per flap cycle.
    assert.ok(switches.length <= 2 * Math.ceil(duration / (2 * half)), `${switches.length} switches`);
    for (const [i, at] of switches.entries()) {
      if (i % 2 === 0) continue; // even = away (degraded hold), odd = back (full hold)
      const since = Math.max(...goodSince.filter((g) => g <= at));
      assert.ok(at - since >= HOLD, `switched back ${at - since} ms after the link improved`);
    }
    // Never more than one switch back per hold period.
    const backs = switches.filter((_, i) => i % 2 === 1);
    for (let i = 1; i < backs.length; i++) assert.ok((backs[i] as number) - (backs[i - 1] as number) >= HOLD);
  });

  it('a link going down and up quickly does not pull traffic back before the hold time', () => {
    const net = triangle();
    net.setLink('tyo', 'fra', { oneWayMs: 150 });
    net.runUntil(5000);
    assert.equal(net.router('tyo').nextHop('fra'), 'fra');
    const start = net.now;
    const before = net.changes.length;
    for (let i = 0; i < 20; i++) {
      net.failLink('tyo', 'fra');
      net.runUntil(net.now + 200);
      net.restoreLink('tyo', 'fra');
      net.runUntil(net.now + 300);
    }
    const switches = net.changes.slice(before).filter((c) => c.node === 'tyo' && c.dest === 'fra');
    // Down is immediate every time; up never lasts the 2 s hold, so 20 downs and 0 backs.
    assert.equal(switches.filter((c) => c.to === 'fra').length, 0);
    assert.ok(switches.length <= 20);
    net.runUntil(start + 10_000 + HOLD + 100);
    assert.equal(net.router('tyo').nextHop('fra'), 'fra', 'returns once the link stays up');
  });
});
