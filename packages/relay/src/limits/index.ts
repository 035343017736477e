export { TokenBucket } from './bucket.js';
export { Admission, type AdmissionOptions, type AdmitResult, type LimitScope, type TenantUsage } from './admission.js';
