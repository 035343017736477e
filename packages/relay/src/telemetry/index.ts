export { NetworkStatePublisher, type NetworkStateSource, type NetworkStatePublisherOptions } from './network-state.js';
export { TenantStatsPublisher, type TenantStatsOptions } from './tenant-stats.js';
export { ChannelCounter, topChannels, type ChannelCount, type TenantChannels } from './channel-counter.js';
