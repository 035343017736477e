// The control service's HTTP handler: routes.ts decides who may call what, service.ts does it.
// Errors are JSON `{ error: code, message }` with httpStatusFor(code); a store outage is 503
// `store_unavailable`. Request bodies and secrets are never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, FpsError, httpStatusFor, isFpsError, readJsonBody, type Logger } from '@fastpubsub/core';
import { AuthFailureThrottle } from '@fastpubsub/protocol';
import { MapTokens, consoleToken, serveConsole } from './console.js';
import { openapi } from './openapi.js';
import { sendUsageExport } from './usage-export.js';
import { ROUTES, allowed, matchPath, type HookRouteKey, type RouteKey } from './routes.js';
import type { ControlService, Principal } from './service.js';

export interface HttpOptions {
  service: ControlService;
  operatorToken: string;
  popToken: string;
  maxBodyBytes: number;
  logger: Logger;
  /** The console's static build, served at /console/ (none: not served). */
  consoleDir?: string;
  now: () => number;
  /** Called with every open watch response, so close() can end them. */
  trackStream(res: ServerResponse): () => void;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  who: Principal | undefined;
  body(): Promise<unknown>;
}

type Handler = (c: Ctx) => Promise<{ status?: number; body: unknown } | undefined>;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const same = (a: Buffer, b: Buffer): boolean => timingSafeEqual(a, b);

export function createControlHandler(o: HttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const s = o.service;
  const operator = digest(o.operatorToken);
  const pop = digest(o.popToken);
  // Failed bearer tokens: logged (never the secret) and throttled per IP with backoff (docs/security.md).
  const throttle = new AuthFailureThrottle({ failuresPerIp: 20, logger: o.logger.child({ component: 'auth' }) });
  const mapTokens = new MapTokens(s, o.now);

  const principal = async (authorization: string | undefined): Promise<Principal | undefined> => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (m === null) return undefined;
    const token = m[1] as string;
    const d = digest(token);
    if (same(d, operator)) return { kind: 'operator' };
    if (same(d, pop)) return { kind: 'pop' };
    const tenant = await s.tenants.tenantOfMasterToken(token);
    return tenant === undefined ? undefined : { kind: 'tenant', tenant };
  };

  const handlers: Record<RouteKey, Handler> = {
    'GET /ping': async ({ res }) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('pong');
      return undefined;
    },
    'GET /healthz': async () => {
      await s.store.get('tenant', '\u0000health');
      return { body: { status: 'ok', store: s.store.kind } };
    },
    'GET /openapi.json': async () => ({ body: openapi }),
    'GET /v1/tenants': async () => ({ body: { tenants: await s.tenants.listTenants() } }),
    'POST /v1/tenants': async (c) => ({ status: 201, body: await s.tenants.createTenant(await c.body()) }),
    'GET /v1/tenants/{tenant}': async (c) => ({ body: await s.tenants.getTenant(p(c, 'tenant')) }),
    'PATCH /v1/tenants/{tenant}': async (c) => ({ body: await s.tenants.updateTenant(p(c, 'tenant'), await c.body()) }),
    'DELETE /v1/tenants/{tenant}': async (c) => {
      await s.tenants.deleteTenant(p(c, 'tenant'));
      await s.hooks.deleteAllOf(p(c, 'tenant'));
      return { body: { message: 'tenant deleted' } };
    },
    'GET /v1/tenants/{tenant}/master-tokens': async (c) => ({ body: { masterTokens: await s.tenants.listMasterTokens(p(c, 'tenant')) } }),
    'POST /v1/tenants/{tenant}/master-tokens': async (c) => ({
      status: 201,
      body: await s.tenants.createMasterToken(p(c, 'tenant'), await c.body().catch(() => ({}))),
    }),
    'DELETE /v1/tenants/{tenant}/master-tokens/{id}': async (c) => {
      await s.tenants.deleteMasterToken(p(c, 'tenant'), p(c, 'id'));
      return { body: { message: 'master token deleted' } };
    },
    'GET /v1/tenants/{tenant}/limits': async (c) => ({ body: await s.tenants.getLimits(p(c, 'tenant')) }),
    'PUT /v1/tenants/{tenant}/limits': async (c) => ({ body: await s.tenants.setLimits(p(c, 'tenant'), await c.body()) }),
    'GET /v1/tenants/{tenant}/usage': async (c) => {
      await s.tenants.getTenant(p(c, 'tenant'));
      const u = s.registry.usage(c.query.get('month') ?? undefined)[p(c, 'tenant')] ?? { messages: 0, bytes: 0, connectionMinutes: 0 };
      return { body: u };
    },
    'POST /v1/get-token': async (c) => ({ body: await s.tokens.issueToken(who(c), await c.body()) }),
    'PUT /v1/refresh-token': async (c) => ({ body: await s.tokens.refreshToken(who(c), await c.body()) }),
    'DELETE /v1/revoke-token': async (c) => ({ body: await s.tokens.revokeToken(who(c), await c.body()) }),
    'GET /v1/keys': async () => ({ body: { keys: s.hub.snapshot().keys } }),
    'POST /v1/keys/rotate': async () => ({ body: await s.tokens.rotateKeys() }),
    'GET /v1/pops': async () => ({ body: { pops: await s.registry.listPops() } }),
    'PUT /v1/pops/{pop}': async (c) => ({ body: await s.registry.heartbeatPop(p(c, 'pop'), await c.body()) }),
    'POST /v1/pops/{pop}/usage': async (c) => {
      await s.registry.reportUsage(p(c, 'pop'), await c.body());
      return { body: { message: 'usage recorded' } };
    },
    'GET /v1/usage': async (c) => ({ body: { usage: s.registry.usage(c.query.get('month') ?? undefined) } }),
    'GET /v1/usage/export': async (c) => {
      await sendUsageExport(s, c.res, c.query, c.query.get('tenant') ?? undefined);
      return undefined;
    },
    'GET /v1/tenants/{tenant}/usage/export': async (c) => {
      await sendUsageExport(s, c.res, c.query, p(c, 'tenant'));
      return undefined;
    },
    'GET /v1/network/map-token': async () => ({ body: await mapTokens.get() }),
    'GET /v1/tenants/{tenant}/tokens': async (c) => {
      await s.tenants.getTenant(p(c, 'tenant'));
      return { body: { tokens: await s.tokens.listTokens(p(c, 'tenant')) } };
    },
    'DELETE /v1/tenants/{tenant}/tokens/{id}': async (c) => ({ body: await s.tokens.revokeTokenById(who(c), p(c, 'tenant'), p(c, 'id')) }),
    'POST /v1/tenants/{tenant}/console-token': async (c) => {
      await s.tenants.getTenant(p(c, 'tenant'));
      return { status: 201, body: await consoleToken(s, p(c, 'tenant'), o.now) };
    },
    ...hookHandlers(s),
    'GET /v1/watch': async ({ res }) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
      res.socket?.setNoDelay(true);
      const write = (ev: unknown): void => {
        res.write(JSON.stringify(ev) + '\n');
      };
      const untrack = o.trackStream(res);
      const unsubscribe = s.hub.subscribe(write);
      write({ type: 'snapshot', state: s.hub.snapshot() });
      const ping = setInterval(() => write({ type: 'ping' }), 2000);
      res.on('close', () => {
        clearInterval(ping);
        unsubscribe();
        untrack();
      });
      return undefined;
    },
  };

  const table = ROUTES.map((r) => ({ ...r, handler: handlers[`${r.method} ${r.path}` as RouteKey] }));

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const path = url.pathname;
    if (serveConsole(o.consoleDir, req, res, path)) return;
    let params: Record<string, string> | undefined;
    const candidates = table.filter((r) => (params = matchPath(r.path, path)) !== undefined);
    const route = candidates.find((r) => r.method === req.method);
    const run = async (): Promise<void> => {
      if (candidates.length === 0) throw new FpsError(ErrorCode.NotFound, `no route ${path}`);
      if (route === undefined) {
        res.setHeader('Allow', candidates.map((r) => r.method).join(', '));
        sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method ?? ''} is not allowed on ${path}` });
        return;
      }
      const routeParams = matchPath(route.path, path) ?? params ?? {};
      const ip = req.socket.remoteAddress ?? '';
      // PoPs' own calls (heartbeats, watch, usage) are never throttled: guessers through a PoP
      // share its address, and must not cut it off from its control plane.
      const isPop = same(digest(/^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? ''), pop);
      if (route.auth !== 'none' && !isPop) {
        const wait = throttle.retryAfterSeconds(ip, 'control');
        if (wait > 0) {
          res.setHeader('Retry-After', String(wait));
          throw new FpsError(ErrorCode.RateLimited, `too many failed authentications; retry in ${wait} s`);
        }
      }
      const who = route.auth === 'none' ? undefined : await principal(req.headers.authorization);
      if (route.auth !== 'none' && who === undefined) {
        throttle.failed(ip, 'control', 'bad_token', /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1]);
        throw new FpsError(ErrorCode.Unauthorized, 'a valid bearer token is required (operator, tenant master token or PoP token)');
      }
      if (!allowed(route.auth, who, routeParams['tenant'])) throw new FpsError(ErrorCode.Forbidden, 'not allowed with this token');
      const out = await route.handler({
        req,
        res,
        params: routeParams,
        query: url.searchParams,
        who,
        body: () => {
          // JSON only: a browser form post (text/plain, form encodings) cannot reach the API.
          const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
          if (type !== 'application/json') return Promise.reject(new FpsError(ErrorCode.UnsupportedMediaType, 'Content-Type must be application/json'));
          return readJsonBody(req, o.maxBodyBytes);
        },
      });
      if (out !== undefined) sendJson(res, out.status ?? 200, out.body);
    };
    run().catch((err: unknown) => {
      const fps = isFpsError(err) ? err : undefined;
      if (fps === undefined) o.logger.error('control handler failed', { path, err });
      else if (fps.code === ErrorCode.StoreUnavailable) o.logger.warn('store unavailable', { path, message: fps.message });
      const code = fps?.code ?? ErrorCode.Internal;
      const status = httpStatusFor(code);
      if ((status === 503 || status === 429) && !res.headersSent && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', '1');
      sendJson(res, status, { error: code, message: fps?.message ?? 'internal error' });
    });
  };
}

function hookHandlers(s: ControlService): Record<HookRouteKey, Handler> {
  const dir = (c: Ctx): 'in' | 'out' => (c.req.url?.includes('/hooks/inbound') === true ? 'in' : 'out');
  const list: Handler = async (c) => ({ body: { hooks: await s.hooks.list(p(c, 'tenant'), dir(c)) } });
  const get: Handler = async (c) => ({ body: await s.hooks.get(p(c, 'tenant'), dir(c), p(c, 'id')) });
  const del: Handler = async (c) => {
    await s.hooks.delete(p(c, 'tenant'), dir(c), p(c, 'id'));
    return { body: { message: 'hook deleted' } };
  };
  return {
    'GET /v1/tenants/{tenant}/hooks/inbound': list,
    'POST /v1/tenants/{tenant}/hooks/inbound': async (c) => ({ status: 201, body: await s.hooks.createInbound(p(c, 'tenant'), await c.body()) }),
    'GET /v1/tenants/{tenant}/hooks/inbound/{id}': get,
    'DELETE /v1/tenants/{tenant}/hooks/inbound/{id}': del,
    'GET /v1/tenants/{tenant}/hooks/outbound': list,
    'POST /v1/tenants/{tenant}/hooks/outbound': async (c) => ({ status: 201, body: await s.hooks.createOutbound(p(c, 'tenant'), await c.body()) }),
    'GET /v1/tenants/{tenant}/hooks/outbound/{id}': get,
    'DELETE /v1/tenants/{tenant}/hooks/outbound/{id}': del,
    'POST /v1/pops/{pop}/hook-stats': async (c) => {
      await s.hooks.reportStats(p(c, 'pop'), await c.body());
      return { body: { message: 'hook stats recorded' } };
    },
  };
}

function p(c: Ctx, name: string): string {
  const v = c.params[name];
  if (v === undefined) throw new FpsError(ErrorCode.BadRequest, `missing ${name}`);
  return v;
}

function who(c: Ctx): Principal {
  if (c.who === undefined) throw new FpsError(ErrorCode.Unauthorized, 'unauthorized');
  return c.who;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
