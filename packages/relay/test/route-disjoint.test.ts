// Node-disjoint redundancy, the pure parts: the router's alternate path shares no relay with the
// primary (first hop included), the origin source-routes one copy per destination along it, and
// each relay on the way follows the route exactly.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RouterNetwork } from '../../../sim/netsim.js';
import { disjointCopies, sourceRouteStep } from '../src/mesh/route/disjoint.js';
import * as w from '@fastpubsub/wire';

function net(): RouterNetwork {
  return new RouterNetwork({ router: { switchHoldMs: 2000, switchMarginMs: 1, switchMarginRatio: 0.05, hopCostMs: 0.5 }, detectMs: 0, seed: 7 });
}

describe('node-disjoint redundancy', () => {
  it('triangle: the primary goes via Singapore, the disjoint copy takes the direct link', () => {
    const n = net();
    for (const id of ['tyo', 'fra', 'sin']) n.addNode(id);
    n.addLink('tyo', 'fra', { oneWayMs: 240 });
    n.addLink('tyo', 'sin', { oneWayMs: 70 });
    n.addLink('sin', 'fra', { oneWayMs: 150 });
    n.runUntil(3000);
    const tyo = n.router('tyo');
    assert.deepEqual(tyo.route('fra')?.path, ['tyo', 'sin', 'fra']);
    assert.deepEqual(disjointCopies(['fra'], tyo), [{ hop: 'fra', dest: 'fra', via: [] }]);
  });

  it('the alternate avoids every relay of the primary, not only its first hop', () => {
    // Primary a→b→c→d (30 ms). a also links to c (40 ms): "via c" leaves by another first hop
    // but dies with c, which is on the primary. The disjoint alternate is a→e→d (100 ms).
    const n = net();
    for (const id of ['a', 'b', 'c', 'd', 'e']) n.addNode(id);
    n.addLink('a', 'b', { oneWayMs: 10 });
    n.addLink('b', 'c', { oneWayMs: 10 });
    n.addLink('c', 'd', { oneWayMs: 10 });
    n.addLink('a', 'c', { oneWayMs: 40 });
    n.addLink('a', 'e', { oneWayMs: 50 });
    n.addLink('e', 'd', { oneWayMs: 50 });
    n.runUntil(3000);
    const a = n.router('a');
    assert.deepEqual(a.route('d')?.path, ['a', 'b', 'c', 'd']);
    assert.deepEqual(a.alternate('d')?.path, ['a', 'e', 'd']);
    assert.deepEqual(disjointCopies(['d'], a), [{ hop: 'e', dest: 'd', via: [] }]);
  });

  it('a source-routed copy is passed hop by hop exactly as routed, delivered only at its destination', () => {
    assert.deepEqual(sourceRouteStep('x', 'd', ['y', 'z']), { kind: 'forward', hop: 'y', via: ['z'] });
    assert.deepEqual(sourceRouteStep('z', 'd', []), { kind: 'forward', hop: 'd', via: [] });
    assert.deepEqual(sourceRouteStep('d', 'd', []), { kind: 'deliver' });
    assert.deepEqual(sourceRouteStep('d', 'd', ['q']), { kind: 'invalid' });
    assert.deepEqual(sourceRouteStep('y', 'd', ['y']), { kind: 'invalid' }, 'a route through the receiver again is a loop');
    const copies = disjointCopies(['d'], { alternate: () => ({ path: ['o', 'p', 'q', 'r', 'd'] }) });
    assert.deepEqual(copies, [{ hop: 'p', dest: 'd', via: ['q', 'r'] }]);
  });

  it('FWD carries the source route (flag VIA) and round-trips it', () => {
    const fwd = { flags: w.FwdFlags.REDUNDANT, ttl: 8, mode: 0, id: new Uint8Array(16).fill(3), origin: 'o', dests: ['d'], via: ['q', 'r'], tenant: 't1', channel: 'a.b', data: new Uint8Array([1, 2]) };
    const [frame] = w.createMeshDecoder().push(w.encodeFwd(fwd));
    const back = w.decodeFwd(frame!);
    assert.deepEqual(back.via, ['q', 'r']);
    assert.equal(back.flags, w.FwdFlags.REDUNDANT | w.FwdFlags.VIA);
    const plain = w.decodeFwd(w.createMeshDecoder().push(w.encodeFwd({ ...fwd, via: undefined }))[0]!);
    assert.equal(plain.via, undefined);
    assert.equal(plain.flags & w.FwdFlags.VIA, 0);
  });
});
