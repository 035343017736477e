// Latency-metric distance-vector routing for the relay mesh. Pure: no I/O, no timers, time is a
// parameter. See docs/routing.md for the protocol and the link-cost formula.

export { linkCostMs, MAX_PRICED_LOSS, MIN_LINK_COST_MS, type LinkMetrics } from './cost.js';
export { LinkHealth, type LinkHealthOptions, type LinkState } from './link-health.js';
export { encodeAdvert, decodeAdvert, type AdvertEntry, type RouteAdvert, type OutgoingAdvert } from './advert.js';
export {
  Router,
  type RouterOptions,
  type Route,
  type RouteChange,
  type NeighbourInfo,
  type TickResult,
} from './router.js';
export {
  planForwarding,
  nextTtl,
  DEFAULT_TTL,
  DuplicateFilter,
  type DuplicateFilterOptions,
  type ForwardingPlan,
  type NextHopLookup,
} from './forwarding.js';
export {
  InterestTable,
  type InterestSnapshot,
  type InterestDigest,
  type InterestTableOptions,
} from '../interest/index.js';
