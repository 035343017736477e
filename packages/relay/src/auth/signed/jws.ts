// Compact JWS (RFC 7515) with EdDSA/Ed25519 (RFC 8037), verified with node:crypto, synchronously
// and with no dependency: the control plane signs with `jose`, every PoP checks here. Only the
// one algorithm is accepted (no `alg: none`, no HMAC confusion); the header must name a `kid`.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { PublicJwk } from '@fastpubsub/protocol';

const B64URL = /^[A-Za-z0-9_-]+$/;

export interface DecodedJws {
  kid: string;
  payload: unknown;
  signingInput: Buffer;
  signature: Buffer;
}

/** Splits and decodes a compact JWS; undefined if it is not one (nothing is verified here). */
export function decodeCompactJws(text: string): DecodedJws | undefined {
  const parts = text.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) return undefined;
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null) return undefined;
  const { alg, kid, crit } = header as { alg?: unknown; kid?: unknown; crit?: unknown };
  if (alg !== 'EdDSA' || typeof kid !== 'string' || kid === '' || crit !== undefined) return undefined;
  return { kid, payload, signingInput: Buffer.from(`${h}.${p}`, 'ascii'), signature: Buffer.from(s, 'base64url') };
}

export function importPublicJwk(jwk: PublicJwk): KeyObject {
  return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
}

export function verifySignature(jws: DecodedJws, key: KeyObject): boolean {
  return jws.signature.length === 64 && verify(null, jws.signingInput, key, jws.signature);
}
