export { H3_ALPN, WEBTRANSPORT_PATH, routeWebTransport, type WebTransportRoutes } from './router.js';
export { DEV_CERT_VALID_MS, WebTransportDevCerts, type CertificateHash } from './certs.js';
