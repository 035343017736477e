// Builds the mesh from the relay config (the composition root calls this one function).
import { ErrorCode, FpsError, type Clock, type Logger, type RelayConfig } from '@fastpubsub/core';
import type { Registry } from 'prom-client';
import { SeedDiscovery, type MeshDiscovery } from './link/discovery.js';
import { loadMeshCredentials } from './link/pki.js';
import { Mesh, type LocalDelivery, type MeshPresence } from './mesh.js';

export interface StartMeshDeps {
  delivery: LocalDelivery;
  registry: Registry;
  logger: Logger;
  /** The relay's clock (monotonic time drives routing and probes). */
  clock: Clock;
  /** Replaces the seed list (e.g. the control plane's PoP registry). */
  discovery?: MeshDiscovery;
  /** Presence gossip carried on the mesh's control streams. */
  presence?: MeshPresence;
}

/** Starts the mesh when the config has a `mesh` section; undefined otherwise. */
export async function startMesh(config: RelayConfig, deps: StartMeshDeps): Promise<Mesh | undefined> {
  const m = config.mesh;
  if (m === undefined) return undefined;
  let credentials;
  try {
    credentials = await loadMeshCredentials({ caFile: m.caFile, certFile: m.certFile, keyFile: m.keyFile });
  } catch (err) {
    throw new FpsError(ErrorCode.ConfigInvalid, `mesh: ${(err as Error).message}`, { cause: err });
  }
  if (credentials.agentTenant !== undefined && m.agent === undefined) {
    throw new FpsError(ErrorCode.ConfigInvalid, `mesh: ${m.certFile} is an edge agent's certificate (tenant ${credentials.agentTenant}); a PoP needs a relay certificate`);
  }
  const mesh = new Mesh({
    credentials,
    host: m.listen.host,
    port: m.listen.port,
    ...(m.advertise === undefined ? {} : { advertise: m.advertise }),
    discovery: deps.discovery ?? new SeedDiscovery(m.seeds, { peerExchange: m.peerExchange }),
    probeIntervalMs: m.probeIntervalMs,
    // A probe counts as lost only after deadAfterMs: long links (RTT up to that) must still
    // get their first answer counted, or they would never come up.
    health: { deadAfterMs: m.deadAfterMs, lossTimeoutMs: m.deadAfterMs },
    linkQueueBytes: m.linkQueueBytes,
    redundantChannels: m.redundantChannels,
    router: { switchMarginMs: m.switchMarginMs, switchMarginRatio: m.switchMarginRatio, switchHoldMs: m.switchHoldMs },
    delivery: deps.delivery,
    presence: deps.presence,
    registry: deps.registry,
    logger: deps.logger,
    now: () => deps.clock.now(),
    // An edge agent (docs/agent.md) dials its PoP and accepts nothing.
    outboundOnly: m.agent !== undefined,
    tcpListen: m.tcpListen,
  });
  mesh.start();
  deps.logger.info('mesh listening', { id: mesh.id, host: m.listen.host, port: mesh.address.port, seeds: m.seeds.length });
  return mesh;
}

export type { Mesh, LinkInfo, RouteInfo, LocalDelivery } from './mesh.js';
