// Validation of the token REST bodies (contract §7). Hand checks rather than a schema library:
// the rules that matter (RFC 3339, the 24 h window, grant syntax) are not expressible in JSON
// Schema anyway, and each failure gets a message naming the offending field.

import { ErrorCode, FpsError } from '@fastpubsub/core';
import { isValidRule, isValidTenant } from './grants.js';
import { parseIpMask } from './restrictions.js';
import { parseTokenRights, type ParsedRights, type RateDefaults } from './rights.js';
import { parseRfc3339 } from './rfc3339.js';
import { parseAccessToken } from './token.js';
import type { TenantGrant, TokenRight } from './types.js';

export interface ExpiryOptions {
  /** Longest lifetime from now; default 24 h (contract §7). */
  maxLifetimeMs?: number;
  /** Clock skew tolerated on top of maxLifetimeMs; default 60 s (the SDK clamps with client time). */
  skewMs?: number;
}

export interface GetTokenOptions extends ExpiryOptions {
  /** Rates applied to a token that omits `ingress_kb_per_sec` / `egress_kb_per_sec` (§11.7). */
  rateDefaults?: RateDefaults;
}

export interface GetTokenRequest {
  /** Normalized copy: only the known fields, every list present, both rates applied. */
  right: TokenRight;
  /** Rate fields the request omitted, filled in from the server default. */
  defaultedRates: ParsedRights['defaulted'];
  expiresAtMs: number;
  createdBy: string;
  description?: string;
}

export interface RefreshTokenRequest {
  tokenId: string;
  expiresAt: string;
  expiresAtMs: number;
}

export interface RevokeTokenRequest {
  token: string;
  id: string;
  secret: string;
}

/** Bounds that keep one request from costing unbounded memory or per-check time. */
const MAX_LIST = 1000;
const MAX_TEXT = 1024;
const HOUR = 3_600_000;

const bad = (message: string): FpsError => new FpsError(ErrorCode.BadRequest, message);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A list of strings; absent or null counts as empty (the SDK always sends them, others may not). */
function stringList(v: unknown, field: string, each?: (s: string) => boolean): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${field} must be an array of strings`);
  if (v.length > MAX_LIST) throw bad(`${field} has more than ${MAX_LIST} entries`);
  return v.map((x: unknown, i) => {
    if (typeof x !== 'string' || x.length === 0 || x.length > MAX_TEXT) {
      throw bad(`${field}[${i}] must be a non-empty string`);
    }
    if (each !== undefined && !each(x)) throw bad(`${field}[${i}] is invalid: ${JSON.stringify(x)}`);
    return x;
  });
}

/** Parses and bounds an expiry: not malformed, not in the past, not beyond the lifetime + skew. */
export function parseExpiry(v: unknown, nowMs: number, opts: ExpiryOptions = {}, field = 'expires_at'): number {
  if (typeof v !== 'string') throw bad(`${field} is required (RFC 3339 text)`);
  const ms = parseRfc3339(v);
  if (ms === undefined) throw bad(`${field} is not an RFC 3339 date-time: ${JSON.stringify(v.slice(0, 64))}`);
  if (ms <= nowMs) throw bad(`${field} is in the past`);
  const limit = nowMs + (opts.maxLifetimeMs ?? 24 * HOUR) + (opts.skewMs ?? 60_000);
  if (ms > limit) throw bad(`${field} is more than ${Math.round((opts.maxLifetimeMs ?? 24 * HOUR) / HOUR)} h ahead`);
  return ms;
}

function parseGrant(v: unknown, i: number): TenantGrant {
  const f = `right.tenant_grants[${i}]`;
  if (!isObject(v)) throw bad(`${f} must be an object`);
  const tenant_ids = stringList(v['tenant_ids'], `${f}.tenant_ids`, isValidTenant);
  // A grant naming no tenant grants nothing: surely a mistake in the request, so say so.
  if (tenant_ids.length === 0) throw bad(`${f}.tenant_ids must name at least one tenant`);
  return {
    tenant_ids,
    allow_channels_pub: stringList(v['allow_channels_pub'], `${f}.allow_channels_pub`, isValidRule),
    allow_channels_sub: stringList(v['allow_channels_sub'], `${f}.allow_channels_sub`, isValidRule),
  };
}

export function parseGetTokenRequest(body: unknown, nowMs: number, opts: GetTokenOptions = {}): GetTokenRequest {
  if (!isObject(body)) throw bad('body must be a JSON object');
  const right = body['right'];
  if (!isObject(right)) throw bad('right is required (an object)');
  const grants = right['tenant_grants'];
  if (!Array.isArray(grants) || grants.length === 0) throw bad('right.tenant_grants must hold at least one grant');
  if (grants.length > MAX_LIST) throw bad(`right.tenant_grants has more than ${MAX_LIST} entries`);
  const expiresAt = right['expires_at'];
  const expiresAtMs = parseExpiry(expiresAt, nowMs, opts, 'right.expires_at');
  const createdBy = body['created_by'];
  if (typeof createdBy !== 'string' || createdBy.trim() === '') throw bad('created_by is required (non-blank)');
  if (createdBy.length > MAX_TEXT) throw bad(`created_by is longer than ${MAX_TEXT} characters`);
  const description = body['description'];
  if (description !== undefined && description !== null && typeof description !== 'string') {
    throw bad('description must be a string');
  }
  if (typeof description === 'string' && description.length > MAX_TEXT) {
    throw bad(`description is longer than ${MAX_TEXT} characters`);
  }
  const rights = parseTokenRights(right, opts.rateDefaults);
  const out: GetTokenRequest = {
    right: {
      tenant_grants: grants.map(parseGrant),
      allow_ip_masks: stringList(right['allow_ip_masks'], 'right.allow_ip_masks', (m) => parseIpMask(m.trim()) !== undefined),
      allow_regions: stringList(right['allow_regions'], 'right.allow_regions'),
      allowed_ws_origin: stringList(right['allowed_ws_origin'], 'right.allowed_ws_origin'),
      ...rights.fields,
      expires_at: expiresAt as string,
    },
    defaultedRates: rights.defaulted,
    expiresAtMs,
    createdBy,
  };
  if (typeof description === 'string') out.description = description;
  return out;
}

/**
 * `{ token_id, expires_at }`. A full `AT_…` token in token_id is tolerated (its id is used):
 * the call is already authorized by the master token, so the secret adds nothing.
 */
export function parseRefreshTokenRequest(body: unknown, nowMs: number, opts: ExpiryOptions = {}): RefreshTokenRequest {
  if (!isObject(body)) throw bad('body must be a JSON object');
  const raw = body['token_id'];
  if (typeof raw !== 'string' || raw.trim() === '') throw bad('token_id is required');
  const tokenId = parseAccessToken(raw.trim())?.id ?? raw.trim();
  if (tokenId.length > MAX_TEXT) throw bad('token_id is too long');
  const expiresAtMs = parseExpiry(body['expires_at'], nowMs, opts);
  return { tokenId, expiresAt: body['expires_at'] as string, expiresAtMs };
}

export function parseRevokeTokenRequest(body: unknown): RevokeTokenRequest {
  if (!isObject(body)) throw bad('body must be a JSON object');
  const token = body['token'];
  if (typeof token !== 'string' || token.trim() === '') throw bad('token is required (AT_…)');
  const parsed = parseAccessToken(token.trim());
  if (parsed === undefined) throw bad('token is not an access token (AT_{id}_{secret})');
  return { token: token.trim(), ...parsed };
}
