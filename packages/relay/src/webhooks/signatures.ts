// Webhook signatures: verifying inbound requests (Standard Webhooks, GitHub, Stripe) and
// signing outbound deliveries (Standard Webhooks). Every comparison is constant-time
// (timingSafeEqual over equal-length digests); timestamps must be within the tolerance either
// way, so a captured request cannot be replayed later. See docs/webhooks.md.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import type { InboundScheme } from '@fastpubsub/protocol';

/** Standard Webhooks and Stripe both allow five minutes of clock difference. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

export type HeaderGetter = (name: string) => string | undefined;

/** Why a signature was refused: the `detail` of the 401. */
export type SignatureFailure = 'missing_header' | 'bad_signature' | 'timestamp_out_of_tolerance';

function refuse(detail: SignatureFailure, message: string): FpsError {
  return new FpsError(ErrorCode.SignatureInvalid, message, { detail });
}

/** The key bytes of a `whsec_…` secret (base64 after the prefix). */
export function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` (Standard Webhooks). */
export function signStandard(secret: string, id: string, timestampSeconds: number, body: Uint8Array | string): string {
  const mac = createHmac('sha256', standardKey(secret)).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** Constant-time equality of two strings of the same encoding (false on different lengths). */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkTimestamp(text: string, nowMs: number): void {
  if (!/^\d{1,12}$/.test(text)) throw refuse('missing_header', 'the signature timestamp is not a number of seconds');
  if (Math.abs(nowMs / 1000 - Number(text)) > TIMESTAMP_TOLERANCE_SECONDS) {
    throw refuse('timestamp_out_of_tolerance', `the signature timestamp is more than ${TIMESTAMP_TOLERANCE_SECONDS} s from now`);
  }
}

/**
 * Throws signature_invalid (401) unless the request is signed with `secret` under `scheme`.
 * Every listed signature is compared (no early exit on the first mismatch).
 */
export function verifyInbound(scheme: InboundScheme, secret: string | undefined, header: HeaderGetter, body: Uint8Array, nowMs: number): void {
  if (scheme === 'none') return;
  if (secret === undefined) throw refuse('bad_signature', 'the hook has no secret');
  switch (scheme) {
    case 'standard': {
      const id = header('webhook-id');
      const ts = header('webhook-timestamp');
      const sigs = header('webhook-signature');
      if (id === undefined || ts === undefined || sigs === undefined) {
        throw refuse('missing_header', 'webhook-id, webhook-timestamp and webhook-signature are required');
      }
      checkTimestamp(ts, nowMs);
      const expected = signStandard(secret, id, Number(ts), body);
      let ok = false;
      for (const s of sigs.split(' ')) if (sameText(s, expected)) ok = true;
      if (!ok) throw refuse('bad_signature', 'no webhook-signature matches');
      return;
    }
    case 'github': {
      const sig = header('x-hub-signature-256');
      if (sig === undefined) throw refuse('missing_header', 'X-Hub-Signature-256 is required');
      const expected = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
      if (!sameText(sig.toLowerCase(), expected)) throw refuse('bad_signature', 'X-Hub-Signature-256 does not match');
      return;
    }
    case 'stripe': {
      const sig = header('stripe-signature');
      if (sig === undefined) throw refuse('missing_header', 'Stripe-Signature is required');
      let t: string | undefined;
      const v1: string[] = [];
      for (const part of sig.split(',')) {
        const eq = part.indexOf('=');
        const k = part.slice(0, eq).trim();
        const v = part.slice(eq + 1).trim();
        if (k === 't') t = v;
        else if (k === 'v1') v1.push(v);
      }
      if (t === undefined || v1.length === 0) throw refuse('missing_header', 'Stripe-Signature needs t= and v1=');
      checkTimestamp(t, nowMs);
      const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
      let ok = false;
      for (const s of v1.slice(0, 16)) if (sameText(s.toLowerCase(), expected)) ok = true;
      if (!ok) throw refuse('bad_signature', 'no Stripe-Signature v1 matches');
      return;
    }
    default: {
      const never: never = scheme;
      throw refuse('bad_signature', `unknown scheme ${String(never)}`);
    }
  }
}
