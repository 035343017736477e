// The edge agent inside a private network: a network namespace whose nft rules drop every
// inbound connection. The PoPs run here, as processes; the agent and its local clients (the
// fabric's own CLI: token, sub, pub) run inside the namespace. Shown: the agent refuses
// nothing it needs (all its connections are outbound), serves its local clients, exchanges
// messages with the fabric both ways, and moves to the other PoP when its PoP is SIGKILLed.
// Skipped where the host cannot create namespaces (not root, no ip/nft).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectWs, freePort, sleep, tokenBody, type Client } from '@fastpubsub/testkit/relay';
import { TENANT, makePki, type AgentPki } from './agent-helpers.js';
import { NetnsLab, cliArgs, netnsAvailable, type Proc } from './agent-netns-lab.js';

const MT = 'agent-netns-master-token-0123456789abcdef';
const available = await netnsAvailable();
let pki: AgentPki;
let work: string;

before(async () => {
  if (!available) return;
  pki = await makePki(['pop-a', 'pop-b'], { 'agent-ns': TENANT });
  work = await mkdtemp(join(tmpdir(), 'fps-agent-ns-'));
});
after(async () => {
  if (!available) return;
  await rm(join(pki.dir, '..'), { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

async function dataDir(name: string): Promise<string> {
  const d = await mkdtemp(join(work, `${name}-`));
  await chmod(d, 0o700);
  return d;
}

interface Pop {
  id: string;
  proc: Proc;
  httpUrl: string;
  wsUrl: string;
  meshAddr: string;
}

async function startPop(lab: NetnsLab, id: string, seeds: string[], tcpListen = false): Promise<Pop> {
  const http = await freePort();
  const meshPort = await freePort();
  const file = join(work, `${id}.json`);
  await writeFile(file, JSON.stringify({
    listen: { host: '127.0.0.1', port: http }, masterToken: MT, dataDir: await dataDir(id), logLevel: 'warn', quic: { enabled: false },
    mesh: { caFile: pki.ca, certFile: join(pki.dir, `${id}.pem`), keyFile: join(pki.dir, `${id}.key`), listen: { host: lab.hostIp, port: meshPort }, seeds, probeIntervalMs: 100, tcpListen },
  }));
  const proc = lab.start(['relay', '--config', file], false);
  await proc.waitLine(/fastpubsub relay listening/, 30_000);
  return { id, proc, httpUrl: `http://127.0.0.1:${http}`, wsUrl: `ws://127.0.0.1:${http}/ws`, meshAddr: `${lab.hostIp}:${meshPort}` };
}

async function popClient(p: Pop): Promise<Client> {
  const res = await fetch(`${p.httpUrl}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MT}`, 'content-type': 'application/json' },
    body: JSON.stringify(tokenBody({ tenant_grants: [{ tenant_ids: [TENANT], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }] })),
    signal: AbortSignal.timeout(5000),
  });
  const token = ((await res.json()) as { token?: string }).token;
  assert.ok(token !== undefined, `get-token at ${p.id}: HTTP ${res.status}`);
  return connectWs(p.wsUrl, token);
}

/** Resolves once `c` receives a delivery whose payload contains `tag`; false after `ms`. */
async function receives(c: Client, tag: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const m = await c.next(Math.max(1, deadline - Date.now()));
      if (m.binary && m.data.includes(Buffer.from(tag))) return true;
    } catch {
      return false;
    }
  }
  return false;
}

/** Publishes `tag` through `send` every 200 ms until `check` sees it; ms taken, or throws. */
async function repeatUntil(send: () => void, check: (ms: number) => Promise<boolean>, ms: number, what: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    send();
    if (await check(200)) return Date.now() - started;
  }
  throw new Error(`${what}: nothing within ${ms} ms`);
}

function tcpConnects(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => done(false), ms);
    function done(ok: boolean): void {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    }
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function startAgent(lab: NetnsLab, pops: Pop[]): Promise<Proc> {
  const cfg = join(work, `agent-${lab.ns}.json`);
  await writeFile(cfg, JSON.stringify({ mesh: { probeIntervalMs: 100, agent: { probeIntervalMs: 1000, probeTimeoutMs: 500, switchMarginMs: 1000 } } }));
  return lab.start([
    'agent', '--fabric', pops.map((p) => `quic://${p.meshAddr}`).join(','), '--ca', pki.ca,
    '--cert', join(pki.dir, 'agent-ns.pem'), '--key', join(pki.dir, 'agent-ns.key'),
    '--listen', '0.0.0.0:7800', '--master-token', MT, '--data-dir', await dataDir('agent'), '--config', cfg, '--log-level', 'info',
  ], true);
}

/** A token of the agent's own token service, minted inside the namespace. */
async function localToken(lab: NetnsLab): Promise<string> {
  const token = (await lab.exec(process.execPath, cliArgs(['token', 'create', '--url', 'http://127.0.0.1:7800', '--master-token', MT, '--tenant', TENANT, '--pub', '#', '--sub', '#']))).trim();
  assert.match(token, /^AT_/);
  return token;
}

describe('edge agent in a private network (inbound blocked by nft)', { timeout: 180_000 }, () => {
  before(() => assert.ok(available, 'these tests need root, ip (iproute2) and nft (nftables)'));
  it('serves local clients, exchanges messages with the fabric both ways, and moves when its PoP is killed', async () => {
    const lab = new NetnsLab();
    const clients: Client[] = [];
    try {
      await lab.create();
      const a = await startPop(lab, 'pop-a', []);
      const b = await startPop(lab, 'pop-b', [a.meshAddr]);
      const agent = await startAgent(lab, [a, b]);
      await agent.waitLine(/fastpubsub agent for tenant t1 listening/, 30_000);
      const attached = await agent.waitLine(/"agent: attached"/, 15_000);
      const first = (JSON.parse(attached) as { pop: string }).pop;
      await agent.waitLine(/"mesh link up"/, 10_000);

      // Nothing gets in: the agent's port is closed to the fabric side, though it listens on every address.
      assert.equal(await tcpConnects(lab.nsIp, 7800, 1000), false, 'an inbound connection reached the agent');

      // Local clients inside the private network.
      const token = await localToken(lab);
      const localSub = lab.start(['sub', '--url', 'http://127.0.0.1:7800', '--token', token, '--json', TENANT, '#'], true);
      await localSub.waitLine(/subscribed to/, 30_000);
      const localPub = lab.start(['pub', '--url', 'http://127.0.0.1:7800', '--token', token, '-q', TENANT, 'up.x', '-'], true, { stdin: true });
      const publishInside = (line: string): void => void localPub.child.stdin!.write(`${line}\n`);
      const subSees = (tag: string) => async (ms: number): Promise<boolean> => localSub.waitLine(new RegExp(tag), ms).then(() => true, () => false);

      // Local: a publish inside reaches the subscriber inside.
      await repeatUntil(() => publishInside('local-1'), subSees('local-1'), 20_000, 'local delivery');

      // Inside → fabric, fabric → inside, through the tunnel the agent dialed.
      const atA = await popClient(a);
      const atB = await popClient(b);
      clients.push(atA, atB);
      await atA.sub(TENANT, 'up.#');
      await atB.sub(TENANT, 'up.#');
      const upMs = await repeatUntil(() => publishInside('to-fabric-1'), (ms) => receives(atA, 'to-fabric-1', ms), 15_000, 'agent → PoP A');
      // PoP B's interest reaches the agent through the PoP it is attached to, possibly after A's.
      await repeatUntil(() => publishInside('to-fabric-1'), (ms) => receives(atB, 'to-fabric-1', ms), 10_000, 'agent → PoP B');
      const downMs = await repeatUntil(() => atB.publish(TENANT, 'down.x', 'from-fabric-1'), subSees('from-fabric-1'), 15_000, 'PoP B → agent');

      // Kill the agent's PoP: it moves to the other one.
      const [dying, staying] = first === 'pop-a' ? [a, b] : [b, a];
      const stayingClient = staying === a ? atA : atB;
      const mark = agent.output().length;
      const killedAt = Date.now();
      dying.proc.child.kill('SIGKILL');
      await agent.waitLine(new RegExp(`"agent: attached".*"pop":"${staying.id}"`), 15_000, mark);
      const attachMs = Date.now() - killedAt;
      const flowMs = await repeatUntil(() => publishInside('after-move'), (ms) => receives(stayingClient, 'after-move', ms), 15_000, 'agent → surviving PoP');
      await repeatUntil(() => stayingClient.publish(TENANT, 'down.y', 'after-move-down'), subSees('after-move-down'), 15_000, 'surviving PoP → agent');
      // Graceful shutdown: SIGTERM → exit 0.
      agent.child.kill('SIGTERM');
      assert.equal(await agent.exited, 0);
      console.log(`netns: first delivery agent→PoP ${upMs} ms, PoP→agent ${downMs} ms; ${dying.id} SIGKILLed → attached to ${staying.id} after ${attachMs} ms, messages flowing ${attachMs + flowMs} ms after the kill`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await lab.close();
    }
    await sleep(0);
  });

  it('falls back to WebSocket over TLS within 5 s when UDP is blocked, carries messages both ways, and returns to QUIC when UDP is back', async () => {
    const lab = new NetnsLab();
    const clients: Client[] = [];
    try {
      await lab.create({ blockUdp: true });
      const a = await startPop(lab, 'pop-a', [], true);
      const agent = await startAgent(lab, [a]);
      await agent.waitLine(/fastpubsub agent for tenant t1 listening/, 30_000);
      const startedAt = Date.now();
      await agent.waitLine(/"agent: no PoP answers over QUIC, tunnel over WebSocket\/TLS \(TCP\)"/, 10_000);
      await agent.waitLine(/"mesh link up".*"peer":"pop-a"/, 10_000);
      const fallbackMs = Date.now() - startedAt;
      assert.ok(fallbackMs < 5000, `tunnel up over TCP after ${fallbackMs} ms`);
      const token = await localToken(lab);
      const localSub = lab.start(['sub', '--url', 'http://127.0.0.1:7800', '--token', token, '--json', TENANT, '#'], true);
      await localSub.waitLine(/subscribed to/, 30_000);
      const localPub = lab.start(['pub', '--url', 'http://127.0.0.1:7800', '--token', token, '-q', TENANT, 'up.x', '-'], true, { stdin: true });
      const atA = await popClient(a);
      clients.push(atA);
      await atA.sub(TENANT, 'up.#');
      const upMs = await repeatUntil(() => void localPub.child.stdin!.write('over-tcp-up\n'), (ms) => receives(atA, 'over-tcp-up', ms), 15_000, 'agent → PoP over TCP');
      const downMs = await repeatUntil(
        () => atA.publish(TENANT, 'down.x', 'over-tcp-down'),
        (ms) => localSub.waitLine(/over-tcp-down/, ms).then(() => true, () => false),
        15_000,
        'PoP → agent over TCP',
      );
      // UDP comes back: the next probe round finds QUIC and the tunnel returns to it.
      const mark = agent.output().length;
      const unblockedAt = Date.now();
      await lab.exec('nft', ['flush', 'chain', 'inet', 'fpsag', 'output']);
      await agent.waitLine(/"agent: QUIC answers again, tunnel back to QUIC"/, 10_000, mark);
      await agent.waitLine(/"mesh link up".*"peer":"pop-a"/, 10_000, mark);
      const backMs = Date.now() - unblockedAt;
      await repeatUntil(() => void localPub.child.stdin!.write('over-quic-again\n'), (ms) => receives(atA, 'over-quic-again', ms), 15_000, 'agent → PoP over QUIC again');
      console.log(`netns, UDP blocked: agent listening → tunnel up over WebSocket/TLS in ${fallbackMs} ms; first delivery agent→PoP ${upMs} ms, PoP→agent ${downMs} ms; UDP unblocked → back on QUIC after ${backMs} ms`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await lab.close();
    }
  });
});
