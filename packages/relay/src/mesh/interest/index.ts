// Interest gossip: which PoPs hold subscribers for which channel patterns, per tenant. Pure.
export {
  InterestTable,
  type InterestSnapshot,
  type InterestDigest,
  type InterestTableOptions,
} from './interest-table.js';
