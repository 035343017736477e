// The control service's routes: one table, used by the router and checked against the OpenAPI
// document by a test (every route documented, every documented route served).
import type { Principal } from './service.js';

export type Role = 'operator' | 'tenant' | 'pop' | 'none';

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI-style path with `{param}` segments. */
  path: string;
  /** Who may call it: the operator always may; 'tenant' adds tenant master tokens; 'pop' adds PoP tokens. */
  auth: Role;
}

export const ROUTES = [
  { method: 'GET', path: '/ping', auth: 'none' },
  { method: 'GET', path: '/healthz', auth: 'none' },
  { method: 'GET', path: '/openapi.json', auth: 'none' },
  { method: 'GET', path: '/v1/tenants', auth: 'operator' },
  { method: 'POST', path: '/v1/tenants', auth: 'operator' },
  { method: 'GET', path: '/v1/tenants/{tenant}', auth: 'tenant' },
  { method: 'PATCH', path: '/v1/tenants/{tenant}', auth: 'operator' },
  { method: 'DELETE', path: '/v1/tenants/{tenant}', auth: 'operator' },
  { method: 'GET', path: '/v1/tenants/{tenant}/master-tokens', auth: 'operator' },
  { method: 'POST', path: '/v1/tenants/{tenant}/master-tokens', auth: 'operator' },
  { method: 'DELETE', path: '/v1/tenants/{tenant}/master-tokens/{id}', auth: 'operator' },
  { method: 'GET', path: '/v1/tenants/{tenant}/limits', auth: 'tenant' },
  { method: 'PUT', path: '/v1/tenants/{tenant}/limits', auth: 'operator' },
  { method: 'GET', path: '/v1/tenants/{tenant}/usage', auth: 'tenant' },
  { method: 'POST', path: '/v1/get-token', auth: 'tenant' },
  { method: 'PUT', path: '/v1/refresh-token', auth: 'tenant' },
  { method: 'DELETE', path: '/v1/revoke-token', auth: 'tenant' },
  { method: 'GET', path: '/v1/keys', auth: 'none' },
  { method: 'POST', path: '/v1/keys/rotate', auth: 'operator' },
  { method: 'GET', path: '/v1/pops', auth: 'pop' },
  { method: 'PUT', path: '/v1/pops/{pop}', auth: 'pop' },
  { method: 'POST', path: '/v1/pops/{pop}/usage', auth: 'pop' },
  { method: 'GET', path: '/v1/usage', auth: 'operator' },
  { method: 'GET', path: '/v1/usage/export', auth: 'operator' },
  { method: 'GET', path: '/v1/tenants/{tenant}/usage/export', auth: 'tenant' },
  { method: 'GET', path: '/v1/watch', auth: 'pop' },
  { method: 'GET', path: '/v1/network/map-token', auth: 'none' },
  { method: 'GET', path: '/v1/tenants/{tenant}/tokens', auth: 'tenant' },
  { method: 'DELETE', path: '/v1/tenants/{tenant}/tokens/{id}', auth: 'tenant' },
  { method: 'POST', path: '/v1/tenants/{tenant}/console-token', auth: 'tenant' },
  { method: 'GET', path: '/v1/tenants/{tenant}/hooks/inbound', auth: 'tenant' },
  { method: 'POST', path: '/v1/tenants/{tenant}/hooks/inbound', auth: 'tenant' },
  { method: 'GET', path: '/v1/tenants/{tenant}/hooks/inbound/{id}', auth: 'tenant' },
  { method: 'DELETE', path: '/v1/tenants/{tenant}/hooks/inbound/{id}', auth: 'tenant' },
  { method: 'GET', path: '/v1/tenants/{tenant}/hooks/outbound', auth: 'tenant' },
  { method: 'POST', path: '/v1/tenants/{tenant}/hooks/outbound', auth: 'tenant' },
  { method: 'GET', path: '/v1/tenants/{tenant}/hooks/outbound/{id}', auth: 'tenant' },
  { method: 'DELETE', path: '/v1/tenants/{tenant}/hooks/outbound/{id}', auth: 'tenant' },
  { method: 'POST', path: '/v1/pops/{pop}/hook-stats', auth: 'pop' },
] as const satisfies readonly RouteDef[];

type Route = (typeof ROUTES)[number];
export type RouteKey = Route extends infer R ? (R extends { method: infer M extends string; path: infer P extends string } ? `${M} ${P}` : never) : never;

/** The webhook routes (hooks.ts), handled together. */
export type HookRouteKey = Extract<RouteKey, `${string} /v1/tenants/{tenant}/hooks/${string}` | 'POST /v1/pops/{pop}/hook-stats'>;

export function allowed(role: Role, who: Principal | undefined, tenantParam: string | undefined): boolean {
  if (role === 'none') return true;
  if (who === undefined) return false;
  if (who.kind === 'operator') return true;
  if (role === 'pop') return who.kind === 'pop';
  if (role === 'tenant' && who.kind === 'tenant') return tenantParam === undefined || tenantParam === who.tenant;
  return false;
}

/** Matches a concrete path against a route path; returns the decoded params or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const p = a[i] as string;
    const s = b[i] as string;
    if (p.startsWith('{') && p.endsWith('}')) {
      if (s === '') return undefined;
      try {
        params[p.slice(1, -1)] = decodeURIComponent(s);
      } catch {
        return undefined;
      }
    } else if (p !== s) return undefined;
  }
  return params;
}
