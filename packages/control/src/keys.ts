// Signing keys and ticket signing with `jose` (EdDSA / Ed25519). Tokens keep the contract's
// `AT_{id}_{secret}` form; the secret is a compact JWS whose characters (base64url and '.')
// are all HTTP token characters, so it fits in Sec-WebSocket-Protocol.
import { randomBytes } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import type { PublicJwk, TicketClaims } from '@fastpubsub/protocol';
import type { KeyRecord } from './types.js';

export async function newKeyRecord(nowMs: number): Promise<KeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const kid = `k${nowMs.toString(36)}${randomBytes(4).toString('hex')}`;
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  return {
    kid,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: String(pub.x), kid },
    privateJwk: { ...priv },
    createdAtMs: nowMs,
    active: true,
    maxExpiryMs: 0,
  };
}

const imported = new Map<string, KeyLike | Uint8Array>();

export async function signTicket(key: KeyRecord, claims: TicketClaims): Promise<string> {
  let k = imported.get(key.kid);
  if (k === undefined) {
    k = await importJWK(key.privateJwk as unknown as JWK, 'EdDSA');
    imported.set(key.kid, k);
  }
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
    .sign(k);
}

/** Keys PoPs must hold: every active key, and retired ones until their last token expires. */
export function publishedKeys(keys: readonly KeyRecord[], nowMs: number, skewMs = 60_000): PublicJwk[] {
  return keys
    .filter((k) => k.active || k.maxExpiryMs + skewMs > nowMs)
    .sort((a, b) => a.createdAtMs - b.createdAtMs)
    .map((k) => k.publicJwk);
}

/** The signing key: the newest active one. */
export function signingKey(keys: readonly KeyRecord[]): KeyRecord | undefined {
  let best: KeyRecord | undefined;
  for (const k of keys) if (k.active && (best === undefined || k.createdAtMs > best.createdAtMs)) best = k;
  return best;
}
