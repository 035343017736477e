// Latency routing of the edge agent: its paths to two PoPs go through UDP link emulators with
// real added delay. It attaches to the nearer PoP, and when that path slows down and the other
// speeds up it moves make-before-break: a publish stream running across the move arrives at a
// subscriber without duplicates.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UdpLinkEmulator } from '@fastpubsub/testkit';
import { TestEnv, freePort, waitFor, type Client } from '@fastpubsub/testkit/relay';
import { TENANT, agentMesh, client, makePki, meshAddr, popMesh, publishUntilReceived, type AgentPki } from './agent-helpers.js';

const env = new TestEnv();
let pki: AgentPki;
const emulators: UdpLinkEmulator[] = [];

before(async () => {
  pki = await makePki(['pop-a', 'pop-b'], { 'agent-1': TENANT });
});
afterEach(async () => {
  await env.cleanup();
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});
after(() => rm(join(pki.dir, '..'), { recursive: true, force: true }));

describe('edge agent latency routing', { timeout: 60_000 }, () => {
  it('attaches to the nearest PoP and moves make-before-break when another becomes nearer, no duplicates', async () => {
    const a = await env.relay({ quic: { enabled: false }, mesh: popMesh(pki, 'pop-a') } as never);
    const b = await env.relay({ quic: { enabled: false }, mesh: popMesh(pki, 'pop-b', 0, [meshAddr(a)]) } as never);
    await waitFor(() => a.mesh!.links().some((l) => l.peer === 'pop-b' && l.state === 'up'), 5000, 'a–b link');
    const agentPort = await freePort();
    const agentAddr = { host: '127.0.0.1', port: agentPort };
    const toA = await UdpLinkEmulator.start({ a: agentAddr, b: { host: '127.0.0.1', port: a.mesh!.address.port }, link: { delayMs: 2 } });
    const toB = await UdpLinkEmulator.start({ a: agentAddr, b: { host: '127.0.0.1', port: b.mesh!.address.port }, link: { delayMs: 30 } });
    emulators.push(toA, toB);
    const mesh = agentMesh(pki, 'agent-1', [`127.0.0.1:${toA.addressForA.port}`, `127.0.0.1:${toB.addressForA.port}`], { probeIntervalMs: 300, switchMarginMs: 10 });
    const agent = await env.relay({ quic: { enabled: false }, mesh: { ...mesh, listen: agentAddr } } as never);
    await waitFor(() => agent.agent!.status().current?.id === 'pop-a' && agent.agent!.status().tunnelUp, 8000, 'attached to the nearer pop-a');
    assert.equal(agent.agent!.status().moves, 0);

    const sub: Client = env.track(await client(b));
    const pub: Client = env.track(await client(agent));
    await sub.sub(TENANT, 'a.#');
    await publishUntilReceived(pub, sub, TENANT, 'a.warm', 8000);

    // Publish 1 message every 10 ms across the move.
    let n = 0;
    const timer = setInterval(() => pub.publish(TENANT, 'a.seq', String(n++)), 10);
    try {
      toA.setLink({ delayMs: 60 });
      toB.setLink({ delayMs: 2 });
      await waitFor(() => agent.agent!.status().current?.id === 'pop-b', 15_000, 'moved to pop-b');
      // Both links overlap during the move, then the old one goes.
      await waitFor(() => agent.mesh!.links().length === 1, 5000, 'old link closed');
    } finally {
      clearInterval(timer);
    }
    const sent = n;
    const seen = new Map<number, number>();
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && seen.size < sent) {
      let d;
      try {
        d = await sub.nextDelivery(1000);
      } catch {
        break;
      }
      if (d.channel === 'a.seq') seen.set(Number(d.payload.toString()), (seen.get(Number(d.payload.toString())) ?? 0) + 1);
    }
    const duplicates = [...seen.values()].filter((c) => c > 1).length;
    const lost = sent - seen.size;
    console.log(`latency move: ${sent} published across the move, ${seen.size} delivered, ${lost} lost, ${duplicates} duplicated; moves ${agent.agent!.status().moves}`);
    assert.equal(duplicates, 0);
    assert.equal(agent.agent!.status().moves, 1);
    assert.ok(lost <= sent * 0.05, `${lost} of ${sent} lost across a make-before-break move`);
  });
});
