// The tenant console's calls to the control plane (all listed in /openapi.json). Errors become
// one sentence a person can act on; nothing here touches the DOM.

export class ApiError extends Error {}

export interface Session {
  tenant: string;
  token: string;
}

async function call<T>(s: Session, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${s.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: 'no-store',
      signal: AbortSignal.timeout(8000),
    });
  } catch {
    throw new ApiError('Cannot reach the control plane; shown data may be stale. Try again in a moment.');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    json = {};
  }
  if (res.status === 401) throw new ApiError('Wrong or expired token: sign in with the tenant master token or the operator token.');
  if (res.status === 403) throw new ApiError(`This token may not manage tenant “${s.tenant}”.`);
  if (!res.ok) {
    const msg = typeof (json as { message?: unknown }).message === 'string' ? (json as { message: string }).message : `HTTP ${res.status}`;
    throw new ApiError(res.status === 404 ? `Not found: ${msg}` : msg);
  }
  return json as T;
}

const t = (s: Session): string => `/v1/tenants/${encodeURIComponent(s.tenant)}`;

export interface TokenRow {
  id: string;
  description: string | null;
  createdAt: string;
  expiresAt: string;
  revoked: boolean;
}

export interface ConsoleToken {
  token: string;
  tenant: string;
  statsTenant: string;
  statsPattern: string;
  edges: { pop: string; wsUrl: string }[];
}

/** Every control-plane route the console calls ("METHOD /path" as in /openapi.json; a test checks them). */
export const CONSOLE_ROUTES = [
  'GET /v1/tenants/{tenant}',
  'GET /v1/tenants/{tenant}/tokens',
  'DELETE /v1/tenants/{tenant}/tokens/{id}',
  'POST /v1/tenants/{tenant}/console-token',
  'GET /v1/tenants/{tenant}/usage',
  'GET /v1/tenants/{tenant}/limits',
  'GET /v1/tenants',
  'POST /v1/tenants',
  'PUT /v1/tenants/{tenant}/limits',
  'POST /v1/keys/rotate',
  'POST /v1/get-token',
  'PUT /v1/refresh-token',
  'GET /v1/network/map-token',
] as const;

export const api = {
  tenant: (s: Session) => call<{ id: string; name?: string }>(s, 'GET', t(s)),
  tokens: (s: Session) => call<{ tokens: TokenRow[] }>(s, 'GET', `${t(s)}/tokens`),
  refresh: (s: Session, id: string, hours: number) =>
    call<{ new_expires_at: string }>(s, 'PUT', '/v1/refresh-token', { token_id: id, expires_at: new Date(Date.now() + hours * 3_600_000).toISOString() }),
  revoke: (s: Session, id: string) => call<{ message: string }>(s, 'DELETE', `${t(s)}/tokens/${encodeURIComponent(id)}`),
  consoleToken: (s: Session) => call<ConsoleToken>(s, 'POST', `${t(s)}/console-token`),
  usage: (s: Session) => call<{ messages: number; bytes: number; connectionMinutes: number }>(s, 'GET', `${t(s)}/usage`),
  limits: (s: Session) => call<{ monthlyMessages?: number; messagesPerSecond?: number }>(s, 'GET', `${t(s)}/limits`),
  // Operator only.
  tenants: (s: Session) => call<{ tenants: { id: string; name?: string }[] }>(s, 'GET', '/v1/tenants'),
  createTenant: (s: Session, id: string, name: string) => call<{ id: string }>(s, 'POST', '/v1/tenants', { id, ...(name === '' ? {} : { name }) }),
  setLimits: (s: Session, limits: Record<string, number>) => call<unknown>(s, 'PUT', `${t(s)}/limits`, limits),
  rotateKeys: (s: Session) => call<{ kid: string }>(s, 'POST', '/v1/keys/rotate'),
  createToken: (s: Session, o: { description: string; pub: string[]; sub: string[]; hours: number; ipMasks: string[]; origins: string[] }) =>
    call<{ token: string }>(s, 'POST', '/v1/get-token', {
      right: {
        tenant_grants: [{ tenant_ids: [s.tenant], allow_channels_pub: o.pub, allow_channels_sub: o.sub }],
        allow_ip_masks: o.ipMasks,
        allowed_ws_origin: o.origins,
        expires_at: new Date(Date.now() + o.hours * 3_600_000).toISOString(),
      },
      created_by: 'web console',
      description: o.description,
    }),
};
