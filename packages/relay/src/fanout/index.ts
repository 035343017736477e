export { matchesPattern, classifyToken, isLiteralPattern, type PatternToken } from './pattern.js';
export {
  SubscriptionIndex,
  type SubscriptionIndexOptions,
  type SinkSubscription,
} from './subscription-index.js';
export {
  OutboundQueue,
  type OutboundQueueOptions,
  type OverflowPolicy,
  type PushResult,
  type QueuedChunk,
} from './outbound-queue.js';
export { pickOne } from './pick.js';
