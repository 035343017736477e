// The network state every PoP publishes about itself on the system tenant, for the live map
// (packages/console) and anyone else holding a read-only token of that tenant. JSON payloads;
// docs/console.md documents them. Pure shapes and names.

/** The tenant relays publish their network state in; the control plane hands out read-only tokens for it. */
export const SYSTEM_TENANT = 'fps-system';
/** Subscribe pattern covering every network-state channel. */
export const NETWORK_STATE_PATTERN = 'net.#';
/** How often a PoP republishes its state when nothing changed, in ms. */
export const NETWORK_STATE_INTERVAL_MS = 1000;

export const networkStateChannels = {
  health: (pop: string): string => `net.health.${pop}`,
  links: (pop: string): string => `net.links.${pop}`,
  routes: (pop: string): string => `net.routes.${pop}`,
};

/** `net.health.<pop>`: the PoP is alive (`up`) or leaving (`stopping`), where it is. */
export interface PopHealthMessage {
  kind: 'health';
  pop: string;
  status: 'up' | 'stopping';
  region: string;
  city: string | null;
  lat: number | null;
  lon: number | null;
  /** Wall clock of the PoP, ms since the epoch. */
  ts: number;
  seq: number;
  connections: number;
}

export interface LinkStateEntry {
  peer: string;
  up: boolean;
  rttMs: number | null;
  jitterMs: number | null;
  /** Probe loss, 0..1. */
  loss: number | null;
}

/** `net.links.<pop>`: the PoP's view of its mesh links (RTT, jitter, loss, up/down). */
export interface LinkStateMessage {
  kind: 'links';
  pop: string;
  ts: number;
  seq: number;
  links: LinkStateEntry[];
}

export interface RouteStateEntry {
  dest: string;
  /** The overlay path, this PoP first. */
  path: string[];
  /** Overlay latency (router cost of the path), ms. */
  pathLatencyMs: number;
  /** Latency of the direct link to dest, if there is one, ms. */
  directLatencyMs: number | null;
}

/** `net.routes.<pop>`: the PoP's chosen overlay routes. */
export interface RouteStateMessage {
  kind: 'routes';
  pop: string;
  ts: number;
  seq: number;
  routes: RouteStateEntry[];
}

export type NetworkStateMessage = PopHealthMessage | LinkStateMessage | RouteStateMessage;

/**
 * A tenant id as one channel segment: `~` and `.` escaped (`~7e`, `~2e`), so that no tenant's
 * pattern covers another tenant's channels (tenant ids may contain both).
 */
export function tenantSegment(tenant: string): string {
  return tenant.replace(/~/g, '~7e').replace(/\./g, '~2e');
}

/** `tenant.<segment>.stats.<pop>`: one tenant's traffic at one PoP, every second while active. */
export const tenantStatsChannel = (tenant: string, pop: string): string => `tenant.${tenantSegment(tenant)}.stats.${pop}`;
/** What a tenant's console token may subscribe to. */
export const tenantStatsPattern = (tenant: string): string => `tenant.${tenantSegment(tenant)}.#`;

export interface TenantStatsMessage {
  kind: 'tenant-stats';
  pop: string;
  tenant: string;
  ts: number;
  messagesPerSec: number;
  bytesPerSec: number;
  connections: number;
  /** The busiest channels published at this PoP in the interval (at most 20), with the connections subscribed to each here. */
  topChannels: { channel: string; messagesPerSec: number; bytesPerSec: number; subscribers: number }[];
  /** Channels holding a counter of the interval's sketch (at most 64; the rest are in otherMessagesPerSec). */
  channelsSeen: number;
  otherMessagesPerSec: number;
  /** The busiest publishing tokens here in the interval (at most 5). */
  topPublishers: { tokenId: string; messagesPerSec: number }[];
  /** The tenant's open connections here by country (ISO 3166 alpha-2, or "unknown"). */
  countries: Record<string, number>;
  /** The tenant's open connections here by User-Agent class. */
  agents: Record<string, number>;
  /** The tenant's open connections here carrying bot flags (at most 20). */
  flagged: { id: number; edge: string; country: string; agent: string; tokenId: string; flags: string[]; openedAt: number }[];
  /** PoP-wide delivery figures over the last interval (all tenants at this PoP). */
  popFigures?: {
    dropsPerSec: Record<string, number>;
    refusalsPerSec: Record<string, number>;
    /** Upper bounds of the publish→write latency buckets, ms; counts has one more (+Inf). */
    latencyBoundsMs: number[];
    latencyCounts: number[];
  };
}
