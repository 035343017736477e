// What a PoP lets an edge agent's link carry. An agent's certificate names one tenant
// (pki.ts agentTenantOf); its link is a leaf of the mesh: it may publish that tenant's messages
// that it originated, announce that tenant's interest and a route to itself, and nothing else.
// Towards the agent, interest snapshots are cut down to its tenant and presence and peer lists
// are not sent, so it never learns another tenant's channels. Everything refused is counted.
import {
  MeshFrameType,
  createMeshDecoder,
  decodeInterest,
  encodeInterest,
  type FwdFrame,
  type InterestFrame,
} from '@fastpubsub/wire';
import type { RouteAdvert } from '../route/index.js';

/** Why a PoP refused something from (or withheld something from) an agent link. */
export type AgentRefusal = 'agent_tenant' | 'agent_origin' | 'agent_interest' | 'agent_route' | 'agent_control';

interface AgentPeer {
  readonly peer: string;
  readonly agentTenant: string | undefined;
}

/** A FWD from `link`: undefined if allowed, else why not. */
export function agentFwdRefusal(link: AgentPeer, fwd: FwdFrame): AgentRefusal | undefined {
  if (link.agentTenant === undefined) return undefined;
  if (fwd.tenant !== link.agentTenant) return 'agent_tenant';
  if (fwd.origin !== link.peer) return 'agent_origin';
  return undefined;
}

/** An INTEREST from `link`: undefined if allowed (its own, for its tenant only), else why not. */
export function agentInterestRefusal(link: AgentPeer, i: InterestFrame): AgentRefusal | undefined {
  if (link.agentTenant === undefined) return undefined;
  if (i.origin !== link.peer) return 'agent_origin';
  for (const t of Object.keys(i.tenants)) if (t !== link.agentTenant) return 'agent_interest';
  return undefined;
}

/** A ROUTE advert from `link`: an agent is never a transit, so only its route to itself is kept. */
export function agentOwnRoutes(link: AgentPeer, advert: RouteAdvert): { advert: RouteAdvert; dropped: number } {
  if (link.agentTenant === undefined) return { advert, dropped: 0 };
  const entries = advert.entries.filter((e) => e.dest === link.peer);
  return { advert: { ...advert, from: link.peer, entries }, dropped: advert.entries.length - entries.length };
}

/** Control frame types from an agent that a PoP ignores (peer lists, presence). */
export function agentMayNotSend(type: number): boolean {
  return type === MeshFrameType.PEERS || type === MeshFrameType.PRESENCE;
}

/**
 * The control frame to send to an agent bound to `tenant` instead of `frame`: INTEREST keeps
 * only that tenant's patterns, PEERS and PRESENCE are withheld (undefined), the rest passes.
 */
export function controlForAgent(tenant: string, frame: Uint8Array): Uint8Array | undefined {
  const type = frame[0];
  if (type === MeshFrameType.PEERS || type === MeshFrameType.PRESENCE) return undefined;
  if (type !== MeshFrameType.INTEREST) return frame;
  const decoded = createMeshDecoder().push(frame)[0];
  if (decoded === undefined) return undefined;
  const i = decodeInterest(decoded);
  const own = i.tenants[tenant];
  return encodeInterest({ origin: i.origin, seq: i.seq, tenants: own === undefined ? {} : { [tenant]: own } });
}
