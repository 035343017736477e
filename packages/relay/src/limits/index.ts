export { TokenBucket } from './bucket.js';
export { Admission, type AdmissionOptions, type AdmitResult, type LimitScope, type TenantUsage } from './admission.js';
export { PreAuthGate, processDescriptorLimit, type PreAuthLimits, type PreAuthRefusal } from './pre-auth.js';
export { RefusalCounters } from './refusals.js';
