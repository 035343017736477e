export { CONTRACT_WT_PATHS, H3_ALPN, WEBTRANSPORT_PATH, routeWebTransport, type WebTransportRoutes } from './router.js';
export { ContractWtSession, acceptContractSession, CONTRACT_WT_MAX_FRAME, type ContractWtContext } from './contract-session.js';
export { DEV_CERT_VALID_MS, WebTransportDevCerts, webTransportInfo, type CertificateHash } from './certs.js';
