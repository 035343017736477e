// Token REST calls (contract v0.1 §7), authenticated with the master token. Browser-safe
// (fetch only), but meant for servers and the CLI: never ship a master token to a browser.
import { ClientError, abortError } from './errors.js';
import { parseEdge } from './endpoint.js';

export const TOKEN_CALL_TIMEOUT_MS = 5000; // contract §7

export interface TenantGrant {
  tenant_ids: string[];
  allow_channels_pub: string[];
  allow_channels_sub: string[];
}

export interface CreateTokenInput {
  grants: TenantGrant[];
  /** Expiry: a Date, epoch ms, or RFC 3339; at most 24 h ahead. */
  expiresAt: Date | number | string;
  createdBy: string;
  description?: string;
  allowIpMasks?: string[];
  allowRegions?: string[];
  allowedWsOrigin?: string[];
}

export interface AdminOptions {
  /** Edge base URL (`https://host`, `http://127.0.0.1:7700` or bare `host[:port]`). */
  url: string;
  masterToken: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

function rfc3339(v: Date | number | string): string {
  if (typeof v === 'string') return v;
  return new Date(v).toISOString();
}

async function call(method: string, path: string, body: unknown, o: AdminOptions): Promise<unknown> {
  const base = parseEdge(o.url).httpUrl;
  if (o.signal?.aborted) throw abortError(o.signal);
  const ac = new AbortController();
  const timeoutMs = o.timeoutMs ?? TOKEN_CALL_TIMEOUT_MS;
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const onAbort = (): void => ac.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${o.masterToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: ac.signal,
    });
    text = await res.text();
  } catch (err) {
    if (o.signal?.aborted) throw abortError(o.signal);
    if (ac.signal.aborted) throw new ClientError('timeout', `${method} ${base}${path} timed out after ${timeoutMs} ms`);
    throw new ClientError('connect_failed', `${method} ${base}${path} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (res.status < 200 || res.status > 299) {
    const code = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : 'http';
    throw new ClientError(code, `${method} ${path} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, { status: res.status, detail: text });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ClientError('protocol', `${method} ${path} answered non-JSON: ${text.slice(0, 200)}`, { status: res.status });
  }
}

function field(obj: unknown, name: string, what: string): string {
  const v = typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[name] : undefined;
  if (typeof v !== 'string') throw new ClientError('protocol', `${what} reply lacks "${name}"`);
  return v;
}

/** `POST /v1/get-token` → the new access token `AT_…`. */
export async function createToken(input: CreateTokenInput, o: AdminOptions): Promise<string> {
  const body = {
    right: {
      tenant_grants: input.grants,
      allow_ip_masks: input.allowIpMasks ?? [],
      allow_regions: input.allowRegions ?? [],
      allowed_ws_origin: input.allowedWsOrigin ?? [],
      expires_at: rfc3339(input.expiresAt),
    },
    created_by: input.createdBy,
    ...(input.description === undefined ? {} : { description: input.description }),
  };
  return field(await call('POST', '/v1/get-token', body, o), 'token', 'get-token');
}

/** The id part of `AT_{id}_{secret}` (contract §7). */
export function tokenId(token: string): string {
  const rest = token.startsWith('AT_') ? token.slice(3) : token;
  const i = rest.indexOf('_');
  if (i <= 0 || i === rest.length - 1) throw new ClientError('bad_argument', 'not an access token (expected AT_{id}_{secret})');
  return rest.slice(0, i);
}

/** `PUT /v1/refresh-token` → `{ message, newExpiresAt }`. */
export async function refreshToken(
  input: { tokenId: string; expiresAt: Date | number | string },
  o: AdminOptions,
): Promise<{ message: string; newExpiresAt: string }> {
  const reply = await call('PUT', '/v1/refresh-token', { token_id: input.tokenId, expires_at: rfc3339(input.expiresAt) }, o);
  return { message: field(reply, 'message', 'refresh-token'), newExpiresAt: field(reply, 'new_expires_at', 'refresh-token') };
}

/** `DELETE /v1/revoke-token` with a JSON body → the server's message. */
export async function revokeToken(input: { token: string }, o: AdminOptions): Promise<string> {
  return field(await call('DELETE', '/v1/revoke-token', { token: input.token }, o), 'message', 'revoke-token');
}
