// Shared by the edge agent's tests: a mesh PKI with agent certificates, PoP and agent configs.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMeshPki, issueAgentCertificate } from '../src/mesh/link/pki.js';
import { connectWs, issueToken, sleep, type Client, type Relay } from '@fastpubsub/testkit/relay';

export const TENANT = 't1';

export interface AgentPki {
  dir: string;
  ca: string;
  /** The same ids from another CA. */
  otherDir: string;
}

export async function makePki(pops: string[], agents: Record<string, string>): Promise<AgentPki> {
  const root = await mkdtemp(join(tmpdir(), 'fps-agent-'));
  const dir = join(root, 'pki');
  const otherDir = join(root, 'other');
  await createMeshPki(dir, pops);
  await createMeshPki(otherDir, []);
  for (const [id, tenant] of Object.entries(agents)) {
    await issueAgentCertificate(dir, id, tenant);
    await issueAgentCertificate(otherDir, id, tenant);
  }
  return { dir, ca: join(dir, 'ca.pem'), otherDir };
}

export function popMesh(pki: AgentPki, id: string, port = 0, seeds: string[] = []): Record<string, unknown> {
  return { caFile: pki.ca, certFile: join(pki.dir, `${id}.pem`), keyFile: join(pki.dir, `${id}.key`), listen: { host: '127.0.0.1', port }, seeds, probeIntervalMs: 50 };
}

export function agentMesh(pki: AgentPki, id: string, pops: string[], agent: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    caFile: pki.ca,
    certFile: join(pki.dir, `${id}.pem`),
    keyFile: join(pki.dir, `${id}.key`),
    listen: { host: '127.0.0.1', port: 0 },
    seeds: pops,
    peerExchange: false,
    probeIntervalMs: 50,
    agent: { probeIntervalMs: 500, probeTimeoutMs: 300, ...agent },
  };
}

export function meshAddr(r: Relay): string {
  return `127.0.0.1:${r.mesh!.address.port}`;
}

/** A WS client at `r` holding a token for tenants t1 and t2, channels a.#, b.#, z.#. */
export async function client(r: Relay): Promise<Client> {
  const rules = ['a.#', 'b.#', 'z.#'];
  const token = await issueToken(r.httpUrl, { tenant_grants: [{ tenant_ids: ['t1', 't2'], allow_channels_pub: rules, allow_channels_sub: rules }] });
  return connectWs(r.wsUrl, token);
}

/**
 * Publishes `tag` on `channel` every 50 ms until `sub` receives it (interest takes a moment to
 * cross the tunnel); returns how long it took. Throws after `ms`.
 */
export async function publishUntilReceived(pub: Client, sub: Client, tenant: string, channel: string, ms: number): Promise<number> {
  const started = Date.now();
  const tag = `probe-${Math.random().toString(36).slice(2)}`;
  while (Date.now() - started < ms) {
    pub.publish(tenant, channel, tag);
    try {
      for (;;) {
        const m = await sub.next(50);
        if (m.binary && m.data.includes(Buffer.from(tag))) return Date.now() - started;
      }
    } catch {
      // nothing within 50 ms: publish again
    }
  }
  await sleep(0);
  throw new Error(`${tenant}/${channel}: nothing received within ${ms} ms`);
}
