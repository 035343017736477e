export { TokenBucket } from './bucket.js';
export { ByteRateLimiter, NoticeGate, MAX_FRAME_BURST_BYTES } from './connection-rate.js';
export { Admission, type AdmissionOptions, type AdmitResult, type LimitScope, type TenantUsage } from './admission.js';
export { acceptErrorLogger, prepareDescriptorLimit, raiseDescriptorLimit, readDescriptorLimits, type DescriptorLimitReport, type DescriptorLimits } from './descriptors.js';
export { PreAuthGate, processDescriptorLimit, type PreAuthLimits, type PreAuthRefusal } from './pre-auth.js';
export { RefusalCounters } from './refusals.js';
export { TenantCapacity, patternComplexityRefusal, type SubscriptionRefusal, type TenantCapacityLimits } from './tenant-capacity.js';
export { subscribeRefusal } from './subscribe-check.js';
export { FanoutBudget } from './fanout-budget.js';
