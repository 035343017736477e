export { NetworkStatePublisher, type NetworkStateSource, type NetworkStatePublisherOptions } from './network-state.js';
