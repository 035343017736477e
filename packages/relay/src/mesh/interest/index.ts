// Interest gossip: which PoPs hold subscribers for which channel patterns, per tenant. Pure.
export {
  InterestTable,
  DEFAULT_GOSSIP_INTERVAL_MS,
  type InterestSnapshot,
  type InterestDigest,
  type InterestTableOptions,
} from './interest-table.js';
