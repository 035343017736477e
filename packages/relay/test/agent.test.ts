// The edge agent on loopback, real relays in this process: the tunnel to its PoP carries its
// tenant's messages both ways, local traffic stays local, the PoP enforces the tenant of the
// agent's certificate (a raw agent link that misbehaves is refused and counted), an agent
// certificate from another CA is refused, publishes wait in the outage queue (bounded,
// overflow counted), and the agent moves to another PoP when its PoP dies.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { ErrorCode, createLogger, isFpsError } from '@fastpubsub/core';
import { MeshFrameType, decodeInterest, encodeFwd, encodeInterest } from '@fastpubsub/wire';
import { TestEnv, freePort, metricValue, scrapeMetrics, sleep, waitFor, type Client } from '@fastpubsub/testkit/relay';
import { MESH_SERVER_NAME, loadMeshCredentials, relayIdOf } from '../src/mesh/link/pki.js';
import { dialMeshWs } from '../src/mesh/link/ws-conn.js';
import net from 'node:net';
import { MeshTransport } from '../src/mesh/link/transport.js';
import { SeedDiscovery } from '../src/mesh/link/discovery.js';
import { TENANT, agentMesh, client, makePki, meshAddr, popMesh, publishUntilReceived, type AgentPki } from './agent-helpers.js';

const env = new TestEnv();
const logger = createLogger({ level: 'silent' });
let pki: AgentPki;

before(async () => {
  pki = await makePki(['pop-a', 'pop-b'], { 'agent-1': TENANT, 'agent-raw': TENANT });
});
afterEach(() => env.cleanup());
after(() => rm(join(pki.dir, '..'), { recursive: true, force: true }));

function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Reads and drops whatever arrives until 150 ms pass quietly (late copies of probe messages). */
async function drain(c: Client): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    try {
      await c.next(150);
    } catch {
      return;
    }
  }
}

async function track(c: Promise<Client>): Promise<Client> {
  return env.track(await c);
}

describe('edge agent', { timeout: 60_000 }, () => {
  it('exchanges its tenant’s messages with the fabric; local traffic stays local; other tenants stay home', async () => {
    const pop = await env.relay({ mesh: popMesh(pki, 'pop-a') } as never);
    const agent = await env.relay({ mesh: agentMesh(pki, 'agent-1', [meshAddr(pop)]) } as never);
    assert.equal(agent.agent?.tenant, TENANT);
    await waitFor(() => agent.agent!.status().tunnelUp, 5000, 'tunnel up');
    assert.equal(agent.agent.status().current?.id, 'pop-a');

    const atPop = await track(client(pop));
    const atAgent = await track(client(agent));
    const atAgent2 = await track(client(agent));
    // agent → fabric
    await atPop.sub(TENANT, 'a.#');
    const upMs = await publishUntilReceived(atAgent, atPop, TENANT, 'a.x', 5000);
    // fabric → agent
    await atAgent2.sub(TENANT, 'b.#');
    await drain(atPop);
    const downMs = await publishUntilReceived(atPop, atAgent2, TENANT, 'b.y', 5000);
    await drain(atAgent2);
    console.log(`agent→PoP first delivery ${upMs} ms, PoP→agent ${downMs} ms`);

    // Local: z.# has no interest at the PoP; 50 messages between two agent clients never cross.
    const linkAtPop = (): number => pop.mesh!.links().find((l) => l.peer === 'agent-1')!.messagesReceived;
    const before = linkAtPop();
    await atAgent2.sub(TENANT, 'z.#');
    for (let i = 0; i < 50; i++) atAgent.publish(TENANT, 'z.local', `m${i}`);
    for (let i = 0; i < 50; i++) assert.equal((await atAgent2.nextDelivery()).payload.toString(), `m${i}`);
    assert.equal(linkAtPop(), before, 'local messages crossed the tunnel');

    // Another tenant: delivered locally at the agent, never sent to the fabric.
    await drain(atPop);
    await atPop.sub('t2', 'a.#');
    await atAgent2.sub('t2', 'a.#');
    atAgent.publish('t2', 'a.other', 'not-for-the-fabric');
    assert.equal((await atAgent2.nextDelivery()).payload.toString(), 'not-for-the-fabric');
    await atPop.expectNothing(300);
    assert.ok(agent.agent.status().otherTenantDropped >= 1);
    // …and the PoP does not tell the agent about t2's interest.
    assert.ok(!agent.mesh!.interest.destinationsFor('t2', 'a.x').includes('pop-a'));
  });

  it('a PoP refuses an agent link’s other-tenant, spoofed and transit traffic (counted) and withholds other tenants’ interest', async () => {
    const pop = await env.relay({ mesh: popMesh(pki, 'pop-a') } as never);
    const creds = await loadMeshCredentials({ caFile: pki.ca, certFile: join(pki.dir, 'agent-raw.pem'), keyFile: join(pki.dir, 'agent-raw.key') });
    const t = new MeshTransport({
      credentials: creds, host: '127.0.0.1', port: 0, discovery: new SeedDiscovery([meshAddr(pop)], { peerExchange: false }),
      probeIntervalMs: 50, linkQueueBytes: 1 << 20, now: () => performance.now(), logger, boot: Date.now(), outboundOnly: true,
    });
    const interestSeen: Record<string, string[]>[] = [];
    t.on('link', (l) => l.on('control', (f) => {
      if (f.type === MeshFrameType.INTEREST) interestSeen.push(decodeInterest(f).tenants);
    }));
    t.start();
    try {
      await waitFor(() => t.links().get('pop-a')?.state === 'up', 5000, 'raw agent link up');
      const link = t.links().get('pop-a')!;
      const sub1 = await track(client(pop));
      const sub2 = await track(client(pop));
      await sub1.sub(TENANT, 'a.#');
      await sub2.sub('t2', 'a.#');
      const fwd = (tenant: string, origin: string, data: string): Uint8Array =>
        encodeFwd({ flags: 0, ttl: 8, mode: 0, id: randomBytes(16), origin, dests: ['pop-a'], tenant, channel: 'a.x', data: Buffer.from(data) });
      link.sendFwd(fwd('t2', 'agent-raw', 'other-tenant'));
      link.sendFwd(fwd(TENANT, 'pop-b', 'spoofed-origin'));
      link.sendFwd(fwd(TENANT, 'agent-raw', 'allowed'));
      assert.equal((await sub1.nextDelivery(3000)).payload.toString(), 'allowed');
      await sub2.expectNothing(200);
      await sub1.expectNothing(100);
      link.sendControl(encodeInterest({ origin: 'agent-raw', seq: 1, tenants: { t2: ['a.#'] } }));
      link.sendControl(encodeInterest({ origin: 'pop-b', seq: 1, tenants: { [TENANT]: ['a.#'] } }));
      await waitFor(async () => (metricValue(await scrapeMetrics(pop), 'fastpubsub_mesh_dropped_total', { reason: 'agent_interest' }) ?? 0) >= 1, 3000, 'agent_interest counted');
      const text = await scrapeMetrics(pop);
      assert.equal(metricValue(text, 'fastpubsub_mesh_dropped_total', { reason: 'agent_tenant' }), 1);
      assert.equal(metricValue(text, 'fastpubsub_mesh_dropped_total', { reason: 'agent_origin' }), 2);
      assert.deepEqual(pop.mesh!.interest.destinationsFor('t2', 'a.x'), ['pop-a'], 'the agent announced interest for t2');
      // Interest the PoP sent the agent: t1 only, though t2 has subscribers at the PoP.
      assert.ok(interestSeen.length > 0);
      for (const tenants of interestSeen) for (const tenant of Object.keys(tenants)) assert.equal(tenant, TENANT);
    } finally {
      await t.close();
    }
  });

  it('refuses an agent certificate from another CA, and relay/agent certificates in the wrong role', async () => {
    const pop = await env.relay({ mesh: popMesh(pki, 'pop-a') } as never);
    const rogue = await loadMeshCredentials({ caFile: pki.ca, certFile: join(pki.otherDir, 'agent-raw.pem'), keyFile: join(pki.otherDir, 'agent-raw.key') }).catch((e: Error) => e);
    assert.ok(rogue instanceof Error && /not issued by/.test(rogue.message), 'the agent itself notices the wrong CA');
    const creds = { ...(await loadMeshCredentials({ caFile: join(pki.otherDir, 'ca.pem'), certFile: join(pki.otherDir, 'agent-raw.pem'), keyFile: join(pki.otherDir, 'agent-raw.key') })), caPem: (await loadMeshCredentials({ caFile: pki.ca, certFile: join(pki.dir, 'pop-b.pem'), keyFile: join(pki.dir, 'pop-b.key') })).caPem };
    const t = new MeshTransport({
      credentials: creds, host: '127.0.0.1', port: 0, discovery: new SeedDiscovery([meshAddr(pop)], { peerExchange: false }),
      probeIntervalMs: 50, linkQueueBytes: 1 << 20, now: () => performance.now(), logger, boot: Date.now(), outboundOnly: true,
    });
    t.start();
    try {
      await waitFor(() => pop.mesh!.transport.refused >= 1, 5000, 'handshake refused at the PoP');
      await sleep(300);
      assert.equal(t.links().size, 0);
      assert.equal(pop.mesh!.links().length, 0);
    } finally {
      await t.close();
    }
    // Over the TCP fallback too: the PoP's TLS refuses a client certificate from another CA.
    const tcpPop = await env.relay({ mesh: { ...popMesh(pki, 'pop-b'), tcpListen: true } } as never);
    await waitFor(() => tcpConnects(tcpPop.mesh!.address.port), 3000, 'TCP mesh listener');
    const refusedBefore = tcpPop.mesh!.transport.refused;
    const viaTcp = await dialMeshWs('127.0.0.1', tcpPop.mesh!.address.port, creds, MESH_SERVER_NAME, 2000).then(() => 'linked', (e: Error) => e.message);
    assert.notEqual(viaTcp, 'linked');
    await waitFor(() => tcpPop.mesh!.transport.refused > refusedBefore, 3000, 'TLS refusal counted');
    assert.ok((metricValue(await scrapeMetrics(pop), 'fastpubsub_mesh_handshakes_refused_total') ?? 0) >= 1, 'QUIC refusal in the metrics');
    const good = await loadMeshCredentials({ caFile: pki.ca, certFile: join(pki.dir, 'agent-raw.pem'), keyFile: join(pki.dir, 'agent-raw.key') });
    const ok = await dialMeshWs('127.0.0.1', tcpPop.mesh!.address.port, good, MESH_SERVER_NAME, 2000);
    assert.equal(ok.peerX509 === undefined ? undefined : relayIdOf(ok.peerX509), 'pop-b');
    ok.close(0, 'test');

    // A PoP with an agent's certificate, an agent with a relay's: configuration errors.
    const popWithAgentCert = await env.relay({ mesh: { ...popMesh(pki, 'pop-a'), certFile: join(pki.dir, 'agent-1.pem'), keyFile: join(pki.dir, 'agent-1.key') } } as never).catch((e: unknown) => e);
    assert.ok(isFpsError(popWithAgentCert) && popWithAgentCert.code === ErrorCode.ConfigInvalid, String(popWithAgentCert));
    const agentWithRelayCert = await env.relay({ mesh: { ...agentMesh(pki, 'agent-1', [meshAddr(pop)]), certFile: join(pki.dir, 'pop-b.pem'), keyFile: join(pki.dir, 'pop-b.key') } } as never).catch((e: unknown) => e);
    assert.ok(isFpsError(agentWithRelayCert) && /relay certificate, not an agent/.test(agentWithRelayCert.message), String(agentWithRelayCert));
  });

  it('keeps local clients working through a fabric outage and sends the queued publishes (bounded) when the tunnel returns', async () => {
    const meshPort = await freePort();
    const httpPort = await freePort();
    const popOpts = { listen: { host: '127.0.0.1', port: httpPort }, quic: { enabled: false }, mesh: popMesh(pki, 'pop-a', meshPort) } as never;
    let pop = await env.relay(popOpts);
    const agent = await env.relay({ mesh: agentMesh(pki, 'agent-1', [`127.0.0.1:${meshPort}`], { queueMessages: 5 }) } as never);
    await waitFor(() => agent.agent!.status().tunnelUp, 5000, 'tunnel up');
    const pub = await track(client(agent));
    const local = await track(client(agent));
    await local.sub(TENANT, 'a.#');
    await pop.close({ graceMs: 0 });
    await waitFor(() => !agent.agent!.status().tunnelUp, 3000, 'tunnel down');
    for (let i = 0; i < 8; i++) pub.publish(TENANT, 'a.q', `q${i}`);
    for (let i = 0; i < 8; i++) assert.equal((await local.nextDelivery()).payload.toString(), `q${i}`, 'local delivery during the outage');
    await waitFor(() => agent.agent!.status().queued === 5, 2000, 'five queued');
    assert.equal(agent.agent!.status().queueDropped, 3);
    assert.equal(metricValue(await scrapeMetrics(agent), 'fastpubsub_agent_queue_dropped_total'), 3);

    pop = await env.relay(popOpts);
    const atPop = await track(client(pop));
    await atPop.sub(TENANT, 'a.#');
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await atPop.nextDelivery(8000)).payload.toString());
    assert.deepEqual(got, ['q3', 'q4', 'q5', 'q6', 'q7']);
    assert.equal(agent.agent!.status().queued, 0);
  });

  it('moves to the other PoP when its PoP dies, without duplicates', async () => {
    const a = await env.relay({ mesh: popMesh(pki, 'pop-a') } as never);
    const b = await env.relay({ mesh: popMesh(pki, 'pop-b', 0, [meshAddr(a)]) } as never);
    await waitFor(() => a.mesh!.links().some((l) => l.peer === 'pop-b' && l.state === 'up'), 5000, 'a–b link');
    const agent = await env.relay({ logLevel: process.env['AGENT_LOG'] ?? 'silent', mesh: agentMesh(pki, 'agent-1', [meshAddr(a), meshAddr(b)], { switchMarginMs: 1000 }) } as never);
    await waitFor(() => agent.agent!.status().tunnelUp && agent.agent!.status().current?.id !== undefined, 5000, 'tunnel up');
    const first = agent.agent!.status().current!.id!;
    const [dying, staying] = first === 'pop-a' ? [a, b] : [b, a];
    assert.equal(agent.mesh!.links().length, 1, 'one tunnel');
    const sub = await track(client(staying));
    const pub = await track(client(agent));
    await sub.sub(TENANT, 'a.#');
    await publishUntilReceived(pub, sub, TENANT, 'a.warm', 5000);
    await drain(sub);
    const closeStarted = Date.now();
    await dying.close({ graceMs: 0 });
    const killedAt = Date.now(); // its mesh closes last, after the edges
    await waitFor(() => agent.agent!.status().current?.id === staying.mesh!.id && agent.agent!.status().tunnelUp, 8000, 'agent moved');
    const movedMs = Date.now() - killedAt;
    for (let i = 0; i < 20; i++) pub.publish(TENANT, 'a.after', `n${i}`);
    const seen = new Map<string, number>();
    const deadline = Date.now() + 5000;
    while (seen.size < 20 && Date.now() < deadline) {
      const d = await sub.nextDelivery(5000);
      if (d.channel === 'a.after') seen.set(d.payload.toString(), (seen.get(d.payload.toString()) ?? 0) + 1);
    }
    await sub.expectNothing(300);
    assert.equal(seen.size, 20);
    for (const [, n] of seen) assert.equal(n, 1, 'duplicate');
    assert.equal(agent.agent!.status().moves, 1);
    console.log(`PoP closed (took ${killedAt - closeStarted} ms) → agent attached to ${staying.mesh!.id} with its tunnel up ${movedMs} ms after the close finished`);
  });
});
