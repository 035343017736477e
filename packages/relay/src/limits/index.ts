export { TokenBucket } from './bucket.js';
export { ByteRateLimiter, NoticeGate, MAX_FRAME_BURST_BYTES } from './connection-rate.js';
export { Admission, type AdmissionOptions, type AdmitResult, type LimitScope, type TenantUsage } from './admission.js';
