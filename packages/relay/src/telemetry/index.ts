export { NetworkStatePublisher, type NetworkStateSource, type NetworkStatePublisherOptions } from './network-state.js';
export { TenantStatsPublisher, type TenantStatsOptions, type PopFigures } from './tenant-stats.js';
export { ChannelCounter, type TenantTraffic } from './channel-counter.js';
export { TrafficMetrics } from './traffic-metrics.js';
export { SpaceSaving, type HeavyHitter } from './space-saving.js';
export { GeoIpCountry, UNKNOWN_COUNTRY } from './geoip.js';
export { classifyUserAgent, AGENT_CLASSES, type AgentClass } from './user-agent.js';
export {
  ConnectionInsights,
  BOT_FLAGS,
  DEFAULT_BOT_THRESHOLDS,
  type BotFlag,
  type BotThresholds,
  type ConnectionInfo,
  type FlaggedConnection,
  type TrackedConnection,
} from './connections.js';
