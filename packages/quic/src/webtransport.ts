// WebTransport application error codes (u32) live inside the HTTP/3 error space when they
// travel as a stream's reset or stop-sending code (draft-ietf-webtrans-http3 §4.4).
import { createHash, X509Certificate } from 'node:crypto';
import { QuicError, QuicErrorCode } from './errors.js';
import { loadAddon } from './native.js';

/** The HTTP/3 code a WebTransport stream error `code` (u32) is sent as. */
export function webTransportCodeToHttp3(code: number): number {
  return loadAddon().webtransportCodeToHttp3(code);
}

/** The WebTransport code an HTTP/3 stream error code carries; undefined if it carries none. */
export function http3CodeToWebTransport(code: number): number | undefined {
  return loadAddon().http3CodeToWebtransport(code) ?? undefined;
}

/** A short-lived self-signed certificate browsers accept through `serverCertificateHashes`. */
export interface WebTransportCert {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the certificate's DER (what `serverCertificateHashes` carries). */
  sha256: Buffer;
  /** Validity window, ms since the epoch. */
  notBefore: number;
  notAfter: number;
}

/** Browsers refuse `serverCertificateHashes` certificates valid for more than 14 days. */
export const WEBTRANSPORT_CERT_MAX_VALID_MS = 14 * 24 * 3600_000;

/**
 * Generates an ECDSA P-256 certificate for `names` (DNS names or IP literals), valid from
 * `notBefore` (ms; default now − 1 min for clock skew) for `validMs` (≤ 14 days).
 */
export function generateWebTransportCert(names: readonly string[], opts: { notBefore?: number; validMs?: number } = {}): WebTransportCert {
  const validMs = opts.validMs ?? WEBTRANSPORT_CERT_MAX_VALID_MS - 3600_000;
  if (!Number.isInteger(validMs) || validMs < 1000 || validMs > WEBTRANSPORT_CERT_MAX_VALID_MS) {
    throw new QuicError(QuicErrorCode.InvalidOptions, `validMs must be in [1000, ${WEBTRANSPORT_CERT_MAX_VALID_MS}]: ${validMs}`);
  }
  const notBefore = opts.notBefore ?? Date.now() - 60_000;
  const raw = loadAddon().generateWebtransportCert([...names], Math.floor(notBefore / 1000), Math.floor(validMs / 1000));
  const der = new X509Certificate(raw.certPem).raw;
  return { certPem: raw.certPem, keyPem: raw.keyPem, sha256: createHash('sha256').update(der).digest(), notBefore: raw.notBefore * 1000, notAfter: raw.notAfter * 1000 };
}
