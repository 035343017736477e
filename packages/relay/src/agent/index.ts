// The edge agent (docs/agent.md): a relay with no inbound mesh and one outbound tunnel. The
// composition root builds an ordinary relay and, when the config's mesh has an `agent`
// section, plugs these parts into it: the UplinkSelector as the mesh's discovery (which PoP
// the tunnel goes to), the FabricQueue between the Dispatcher and the mesh forwarder (what
// waits while the tunnel is down), and a flush timer.
import { ErrorCode, FpsError, type Logger, type MeshConfig } from '@fastpubsub/core';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DispatchMessage } from '../delivery/index.js';
import type { LocalDelivery, Mesh } from '../mesh/start.js';
import { loadMeshCredentials } from '../mesh/link/pki.js';
import { FabricQueue } from './fabric-queue.js';
import { UplinkSelector, type UplinkStatus } from './uplink.js';

/** The tunnel counts as ready this long after its link came up (routes and interest arrive). */
const SETTLE_MS = 500;
const FLUSH_TICK_MS = 20;

export interface AgentDeps {
  registry: Registry;
  logger: Logger;
  now: () => number;
}

export interface AgentStatus extends UplinkStatus {
  tenant: string;
  tunnelUp: boolean;
  queued: number;
  queueDropped: number;
  otherTenantDropped: number;
}

export class EdgeAgent {
  readonly tenant: string;
  readonly uplink: UplinkSelector;
  readonly queue: FabricQueue;
  readonly #deps: AgentDeps;
  #mesh: Mesh | undefined;
  #upSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  private constructor(tenant: string, uplink: UplinkSelector, cfg: NonNullable<MeshConfig['agent']>, deps: AgentDeps) {
    this.tenant = tenant;
    this.uplink = uplink;
    this.#deps = deps;
    this.queue = new FabricQueue({ tenant, maxMessages: cfg.queueMessages, maxBytes: cfg.queueBytes, tunnelReady: () => this.#tunnelReady() });
    registerMetrics(deps.registry, this);
  }

  /** Reads the agent's certificate (it must be an agent certificate: `mesh issue-agent`). */
  static async create(mesh: MeshConfig, deps: AgentDeps): Promise<EdgeAgent> {
    const cfg = mesh.agent;
    if (cfg === undefined) throw new FpsError(ErrorCode.ConfigInvalid, 'mesh.agent is not set');
    let credentials;
    try {
      credentials = await loadMeshCredentials({ caFile: mesh.caFile, certFile: mesh.certFile, keyFile: mesh.keyFile });
    } catch (err) {
      throw new FpsError(ErrorCode.ConfigInvalid, `agent: ${(err as Error).message}`, { cause: err });
    }
    if (credentials.agentTenant === undefined) {
      throw new FpsError(ErrorCode.ConfigInvalid, `agent: ${mesh.certFile} is a relay certificate, not an agent's (issue one with \`fastpubsub mesh issue-agent --tenant T\`)`);
    }
    if (mesh.seeds.length === 0) throw new FpsError(ErrorCode.ConfigInvalid, 'agent: no PoP to connect to (--fabric / mesh.seeds is empty)');
    const uplink = new UplinkSelector({ pops: mesh.seeds, config: cfg, logger: deps.logger, now: deps.now });
    return new EdgeAgent(credentials.agentTenant, uplink, cfg, deps);
  }

  /** The Dispatcher as the mesh should see it: its forwarder goes through the fabric queue. */
  wrapDelivery(d: LocalDelivery): LocalDelivery {
    const q = this.queue;
    return {
      setForwarder: (fn) => {
        q.setForward(fn);
        d.setForwarder(fn === undefined ? undefined : (msg: DispatchMessage) => q.send(msg));
      },
      deliverRemote: (msg) => d.deliverRemote(msg),
      // Only the agent's tenant's interest is announced: the PoP refuses any other.
      onInterestChange: (listener) => d.onInterestChange((t) => (t === this.tenant ? listener(t) : undefined)),
      interestOf: (t) => (t === this.tenant ? d.interestOf(t) : []),
      tenantsWithInterest: () => d.tenantsWithInterest().filter((t) => t === this.tenant),
    };
  }

  start(mesh: Mesh): void {
    this.#mesh = mesh;
    this.uplink.start({
      linkState: (peer) => {
        const l = mesh.transport.links().get(peer);
        return l === undefined || l.isClosed ? 'none' : l.state;
      },
      closePeer: (peer, reason) => mesh.transport.closePeer(peer, reason),
      probe: (addr, timeoutMs, over) => mesh.transport.probe(addr, timeoutMs, over),
    });
    this.#timer = setInterval(() => {
      this.#trackTunnel();
      this.queue.flush();
    }, FLUSH_TICK_MS);
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.uplink.close();
  }

  status(): AgentStatus {
    const c = this.queue.counters;
    return {
      ...this.uplink.status(),
      tenant: this.tenant,
      tunnelUp: this.#upNow(),
      queued: this.queue.length,
      queueDropped: c.overflowDropped,
      otherTenantDropped: c.otherTenantDropped,
    };
  }

  #upNow(): boolean {
    const mesh = this.#mesh;
    if (mesh === undefined) return false;
    for (const l of mesh.transport.links().values()) if (!l.isClosed && l.state === 'up') return true;
    return false;
  }

  /** Notes when the tunnel came up (every flush tick). */
  #trackTunnel(): void {
    if (!this.#upNow()) this.#upSince = undefined;
    else this.#upSince ??= this.#deps.now();
  }

  #tunnelReady(): boolean {
    this.#trackTunnel();
    return this.#upSince !== undefined && this.#deps.now() - this.#upSince >= SETTLE_MS;
  }
}

function registerMetrics(registry: Registry, agent: EdgeAgent): void {
  const registers = [registry];
  new Gauge({ name: 'fastpubsub_agent_tunnel_up', help: '1 while the agent has a live tunnel to a PoP.', registers, collect() { this.set(agent.status().tunnelUp ? 1 : 0); } });
  new Gauge({ name: 'fastpubsub_agent_queued_messages', help: 'Fabric-bound publishes waiting for the tunnel.', registers, collect() { this.set(agent.queue.length); } });
  new Counter({ name: 'fastpubsub_agent_queue_dropped_total', help: 'Fabric-bound publishes dropped because the outage queue was full (drop-oldest).', registers, collect() { this.reset(); this.inc(agent.queue.counters.overflowDropped); } });
  new Counter({ name: 'fastpubsub_agent_other_tenant_dropped_total', help: "Publishes of another tenant than the agent certificate's, kept local.", registers, collect() { this.reset(); this.inc(agent.queue.counters.otherTenantDropped); } });
  new Counter({ name: 'fastpubsub_agent_moves_total', help: 'Times the agent moved its tunnel to another PoP.', registers, collect() { this.reset(); this.inc(agent.uplink.moves); } });
}
