// Wires the relay's traffic and client telemetry (telemetry/): connection insights for the
// edges (GeoIP, User-Agent, bot signals), the per-tenant / per-channel top-K metrics, and the
// tenant-stats publisher on the system tenant. Kept out of node.ts so the composition root stays
// readable; node.ts calls these two functions at the points where their inputs exist.
import type { Logger } from '@fastpubsub/core';
import { SYSTEM_TENANT, isAuthFailure } from '@fastpubsub/protocol';
import { PublishMode } from '@fastpubsub/wire';
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import type { TicketVerifier } from './auth/edge-ticket.js';
import type { Dispatcher, PublishObserver } from './delivery/index.js';
import type { Admission } from './limits/index.js';
import type { RelayMetrics } from './metrics.js';
import { ChannelCounter, ConnectionInsights, NetworkStatePublisher, TenantStatsPublisher, TrafficMetrics, type NetworkStatePublisherOptions } from './telemetry/index.js';

export interface RelayTelemetry {
  readonly insights: ConnectionInsights;
  readonly channels: ChannelCounter;
  /** `verifier`, also telling the insights about every failed authentication (auth-failure signal). */
  watchAuth(verifier: TicketVerifier): TicketVerifier;
  /** The per-second drain of the channel counter; startTenantStats takes it over. */
  drain(): ReturnType<ChannelCounter['drain']>;
  stop(): void;
}

/** `onPublish`: another observer of every publish (the dispatcher has one slot; telemetry owns it). */
export function createTelemetry(o: { registry: Registry; dispatcher: Dispatcher; logger: Logger; now: () => number; onPublish?: PublishObserver }): RelayTelemetry {
  const insights = new ConnectionInsights({ registry: o.registry, now: o.now, logger: o.logger.child({ component: 'insights' }) });
  insights.start();
  const channels = new ChannelCounter(o.now);
  o.dispatcher.setPublishObserver((msg) => {
    if (msg.tenant !== SYSTEM_TENANT) channels.record(msg.tenant, msg.channel, msg.payload.byteLength, msg.publisher);
    o.onPublish?.(msg);
  });
  new TrafficMetrics(o.registry, channels, () => insights.connectionsPerTenant());
  // Intervals end every second for /metrics; with tenant stats, their publisher ends them instead.
  let drainTimer: ReturnType<typeof setInterval> | undefined = setInterval(() => channels.drain(), 1000);
  drainTimer.unref();
  return {
    insights,
    channels,
    drain: () => {
      if (drainTimer !== undefined) clearInterval(drainTimer);
      drainTimer = undefined;
      return channels.drain();
    },
    stop: () => {
      if (drainTimer !== undefined) clearInterval(drainTimer);
      insights.stop();
    },
    watchAuth: (verifier) => ({
      onRevoked: (listener) => verifier.onRevoked(listener),
      verify: async (token, ctx) => {
        try {
          return await verifier.verify(token, ctx);
        } catch (err) {
          if (isAuthFailure(err)) insights.authFailed(ctx.ip);
          throw err;
        }
      },
    }),
  };
}

/** Each active tenant's figures once a second on `tenant.<t>.stats.<pop>` (needs admission's per-tenant usage). */
export function startTenantStats(o: {
  pop: string;
  telemetry: RelayTelemetry;
  admission: Admission;
  dispatcher: Dispatcher;
  metrics: RelayMetrics;
  now: () => number;
}): TenantStatsPublisher {
  const { telemetry, admission, dispatcher, metrics, now } = o;
  const publisher = new TenantStatsPublisher({
    pop: o.pop,
    usage: () => admission.usage(now()),
    connections: (tenant) => admission.connections(tenant),
    channels: () => telemetry.drain(),
    subscribers: (tenant, channel) => dispatcher.subscriberCount(tenant, channel),
    clients: telemetry.insights,
    popFigures: async () => ({ ...(await metrics.deliveryFigures()), refusals: { ...admission.refused } }),
    publish: (channel, payload) =>
      dispatcher.publish({ tenant: SYSTEM_TENANT, channel, payload, mode: PublishMode.BROADCAST, arrivedAtMs: performance.now(), origin: 'system' }),
    now,
  });
  publisher.start();
  return publisher;
}

/**
 * The PoP's links, routes and health on the system tenant (the live map, docs/console.md); a new
 * map subscriber here gets the current state at once instead of at the next heartbeat. Returns
 * the stop function.
 */
export function startNetworkState(o: Omit<NetworkStatePublisherOptions, 'publish'> & { dispatcher: Dispatcher }): () => void {
  const { dispatcher, ...rest } = o;
  const state = new NetworkStatePublisher({
    ...rest,
    publish: (channel, payload) =>
      dispatcher.publish({ tenant: SYSTEM_TENANT, channel, payload, mode: PublishMode.BROADCAST, arrivedAtMs: performance.now(), origin: 'system' }),
  });
  state.start();
  const stopOnInterest = dispatcher.onInterestChange((tenant) => {
    if (tenant === SYSTEM_TENANT) state.publishAll();
  });
  return () => {
    stopOnInterest();
    state.stop();
  };
}
