// Three PoPs, subscribers on each, publishers on each. Every message
// reaches every subscriber exactly once and crosses each mesh link at most once: a→c is priced
// above a→b→c, so a message from a to {b, c} travels as ONE copy to b carrying both
// destinations, b delivers and forwards one copy to c, and the a–c link carries nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DevCluster } from '@fastpubsub/cli';
import { WsClient, cluster, links, routes, seqOf, sleep, stamp, until } from './mesh-helpers.js';

const IDS = ['a', 'b', 'c'] as const;
const topology = {
  nodes: IDS.map((id) => ({ id })),
  links: [
    { a: 'a', b: 'b', delayMs: 10 },
    { a: 'b', b: 'c', delayMs: 10 },
    { a: 'a', b: 'c', delayMs: 40 },
  ],
};
const PER_PUBLISHER = 100;

let c: DevCluster;
const subs = new Map<string, WsClient[]>();
const pubs = new Map<string, WsClient>();

before(async () => {
  c = await cluster(topology, { mesh: { probeIntervalMs: 100, switchHoldMs: 500 } });
  for (const id of IDS) {
    const two = [await WsClient.open(c, id), await WsClient.open(c, id)];
    await two[0]!.subscribe('m.#');
    await two[1]!.subscribe('m.fan.*');
    subs.set(id, two);
    pubs.set(id, await WsClient.open(c, id));
  }
});

after(async () => {
  for (const s of subs.values()) for (const x of s) x.close();
  for (const p of pubs.values()) p.close();
  await c?.stop();
});

/** Next-hop changes so far, summed over the three relays (from /metrics). */
async function routeChanges(): Promise<number> {
  let total = 0;
  for (const id of IDS) {
    const text = await (await fetch(`${c.nodes.get(id)!.httpUrl}/metrics`)).text();
    const m = /^fastpubsub_mesh_route_changes_total (\d+)/m.exec(text);
    total += m === null ? 0 : Number(m[1]);
  }
  return total;
}

/**
 * Waits until a→c and c→a have gone via b for a whole second: the first probe estimates are
 * noisy, and a route seen via b once may still switch to the direct a–c link.
 */
async function settledViaB(): Promise<void> {
  let since: number | undefined;
  await until('a and c route via b (held for 1 s)', 30_000, async () => {
    const ra = (await routes(c, 'a')).find((r) => r.dest === 'c');
    const rc = (await routes(c, 'c')).find((r) => r.dest === 'a');
    if (ra?.nextHop !== 'b' || rc?.nextHop !== 'b') since = undefined;
    else since ??= Date.now();
    return since !== undefined && Date.now() - since >= 1000 ? true : undefined;
  });
}

async function sentCounters(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const id of IDS) for (const l of await links(c, id)) out.set(`${id}->${l.peer}`, l.messagesSent);
  return out;
}

describe('mesh fan-out over three PoPs', () => {
  it('every message reaches every subscriber exactly once and crosses each link at most once', async (t) => {
    // Routes settle on the relayed a–b–c paths and every PoP knows every subscription.
    await settledViaB();
    await until('interest known everywhere', 10_000, async () => {
      for (const s of subs.values()) for (const x of s) x.received.length = 0;
      pubs.get('a')!.publish('m.fan.warm', stamp(0));
      pubs.get('c')!.publish('m.fan.warm', stamp(0));
      await sleep(300);
      return [...subs.values()].every((s) => s.every((x) => x.received.length === 2)) ? true : undefined;
    });
    await sleep(200);
    // Again right before the burst: the per-link split below assumes these routes.
    await settledViaB();
    for (const s of subs.values()) for (const x of s) x.received.length = 0;
    const before = await sentCounters();
    const changesBefore = await routeChanges();

    let seq = 1;
    for (let i = 0; i < PER_PUBLISHER; i++) {
      for (const id of IDS) pubs.get(id)!.publish('m.fan.x', stamp(seq++));
      if (i % 10 === 9) await sleep(5);
    }
    const total = PER_PUBLISHER * IDS.length;
    await until('all deliveries', 10_000, () => ([...subs.values()].every((s) => s.every((x) => x.received.length >= total)) ? true : undefined));
    await sleep(500); // room for any duplicate to show up

    for (const [id, s] of subs) {
      for (const x of s) {
        const seqs = x.received.map(seqOf);
        assert.equal(seqs.length, total, `${id}: ${seqs.length} deliveries for ${total} messages`);
        assert.equal(new Set(seqs).size, total, `${id}: duplicates`);
      }
    }
    const afterCounts = await sentCounters();
    const delta = (k: string): number => (afterCounts.get(k) ?? 0) - (before.get(k) ?? 0);
    // Each directed link carries at most one copy of each message...
    for (const k of afterCounts.keys()) assert.ok(delta(k) <= total, `${k}: ${delta(k)} copies for ${total} messages`);
    // The exact split below holds only if routes stayed put during the burst. On a loaded machine
    // a late probe can mark a link dead for a moment and reroute (correctly) over a–c; then only
    // the at-most-once bound above is defined, and the test says so rather than flaking.
    const changed = (await routeChanges()) - changesBefore;
    if (changed > 0) {
      const now: string[] = [];
      for (const id of IDS) for (const r of await routes(c, id)) now.push(`${id}->${r.dest} via ${r.nextHop}`);
      t.diagnostic(`${changed} route change(s) during the burst (routes now: ${now.join(', ')}): per-link split not asserted`);
      return;
    }
    // ...and exactly: a's messages cross a→b once (to b and c), b's cross b→a and b→c once,
    // c's cross c→b once; forwarded copies add b→c for a's and b→a for c's. a–c carries none.
    assert.equal(delta('a->b'), PER_PUBLISHER);
    assert.equal(delta('c->b'), PER_PUBLISHER);
    assert.equal(delta('b->a'), 2 * PER_PUBLISHER);
    assert.equal(delta('b->c'), 2 * PER_PUBLISHER);
    assert.equal(delta('a->c'), 0);
    assert.equal(delta('c->a'), 0);
  });
});
