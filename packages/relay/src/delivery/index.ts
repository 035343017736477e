export { Dispatcher, type DispatcherOptions, type Forwarder, type InterestListener, type PublishObserver } from './dispatcher.js';
export { Encodings, patternsKey } from './encodings.js';
export type { DispatchMessage, EncodingCache, Origin, Sink } from './types.js';
export { IDEMPOTENCY_WINDOW_MS, IdempotencyWindow, idempotentMessageId } from './idempotency.js';
