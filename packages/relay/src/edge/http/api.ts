// REST on the relay's port (contract §7, §8): /ping, the master-token-guarded token calls,
// discovery, health and Prometheus metrics. Errors are JSON `{ "error": code, "message" }`
// with the status httpStatusFor gives the code.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, FpsError, httpStatusFor, isFpsError, type Logger } from '@fastpubsub/core';
import { readJsonBody } from '@fastpubsub/core';
import { masterTokenChecker } from './master-auth.js';
import { masterTokenFailed, refuseIfThrottled, requireJson, type AuthThrottle } from './guards.js';
import { RETRY_AFTER_SECONDS, type HttpHandler } from './publish.js';
import { relayOpenapi } from './openapi.js';

type MaybePromise<T> = T | Promise<T>;

/** The token operations the REST calls expose; bodies are validated by the implementation. */
export interface TokenAdmin {
  issue(body: unknown): MaybePromise<{ token: string }>;
  refresh(body: unknown): MaybePromise<{ message: string; new_expires_at: string }>;
  revoke(body: unknown): MaybePromise<{ message: string }>;
}

export interface HttpApiOptions {
  masterToken: string;
  maxBodyBytes: number;
  tokens: TokenAdmin;
  metrics: { text(): Promise<string>; readonly contentType: string };
  /** The bare `host[:port]` list served at /v1/edges. */
  edges(): readonly string[];
  /** Served at /v1/webtransport. */
  webTransport?: () => { enabled: boolean; port: number | null; path: string; serverCertificateHashes: readonly { algorithm: string; value: string }[] };
  isShuttingDown(): boolean;
  logger: Logger;
  /** The relay mesh, for GET /v1/mesh/links and /v1/mesh/routes (404 without one). */
  mesh?: () => MeshIntrospection | undefined;
  /**
   * With a control plane: the token calls go to it with the caller's Authorization header
   * (the control service checks master tokens), instead of `tokens` and `masterToken` here.
   */
  tokenProxy?: (op: 'issue' | 'refresh' | 'revoke', authorization: string | undefined, body: unknown) => Promise<object>;
  /** Failed master-token checks are counted and throttled per IP here. */
  authThrottle?: AuthThrottle;
  /** /v1/mesh/links and /v1/mesh/routes answer without the master token (default: they need it). */
  publicMeshIntrospection?: boolean;
  /** HTTPS publish (edge/http/publish.ts): POST /v1/publish and /v1/publish/{tenant}/{channel}. */
  publish?: { single(rest: string): HttpHandler; batch(): HttpHandler };
  /** Further routes by path prefix (e.g. presence), tried after the exact routes. */
  prefixRoutes?: ReadonlyArray<{ prefix: string; methods: Partial<Record<string, (rest: string) => HttpHandler>> }>;
}

/** Read-only views of the mesh (relay/src/mesh/mesh.ts). */
export interface MeshIntrospection {
  readonly id: string;
  links(): readonly object[];
  routes(): readonly object[];
}

type Handler = HttpHandler;

export function createHttpApi(opts: HttpApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const isMaster = masterTokenChecker(opts.masterToken);

  const admin =
    (op: (body: unknown) => MaybePromise<object>, pick: (r: object) => object): Handler =>
    async (req, res) => {
      refuseIfThrottled(opts.authThrottle, req, res);
      if (!isMaster(req.headers.authorization)) masterTokenFailed(opts.authThrottle, req, '');
      requireJson(req);
      const body = await readJsonBody(req, opts.maxBodyBytes);
      sendJson(res, 200, pick(await op(body)));
    };

  const proxy = opts.tokenProxy;
  const forward =
    (op: 'issue' | 'refresh' | 'revoke', pick: (r: object) => object): Handler =>
    async (req, res) => {
      if (proxy === undefined) throw new FpsError(ErrorCode.Internal, 'no token proxy');
      // Throttled here per client address first: at the control service every forwarded call
      // carries this relay's address.
      refuseIfThrottled(opts.authThrottle, req, res);
      requireJson(req);
      const body = await readJsonBody(req, opts.maxBodyBytes);
      try {
        sendJson(res, 200, pick(await proxy(op, req.headers.authorization, body)));
      } catch (err) {
        if (isFpsError(err) && err.code === ErrorCode.Unauthorized) masterTokenFailed(opts.authThrottle, req, '');
        throw err;
      }
    };

  const meshOrThrow = (req: IncomingMessage, res: ServerResponse): MeshIntrospection => {
    // The link and route tables map the network: an operator view unless configured public.
    if (opts.publicMeshIntrospection !== true) {
      refuseIfThrottled(opts.authThrottle, req, res);
      if (!isMaster(req.headers.authorization)) masterTokenFailed(opts.authThrottle, req, ' (or mesh.publicIntrospection)');
    }
    const m = opts.mesh?.();
    if (m === undefined) throw new FpsError(ErrorCode.NotFound, 'this relay has no mesh');
    return m;
  };

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/ping': {
      // A draining relay fails the edge-selection check, so clients pick another edge
      // (contract §7: any non-2xx fails it; §11.9: failed candidates are skipped).
      GET: async (_req, res) =>
        opts.isShuttingDown()
          ? sendJson(res, 503, { error: ErrorCode.ShuttingDown, message: 'relay is draining; pick another edge' })
          : send(res, 200, 'text/plain; charset=utf-8', 'pong'),
    },
    '/healthz': {
      GET: async (_req, res) =>
        opts.isShuttingDown() ? sendJson(res, 503, { status: 'shutting_down' }) : sendJson(res, 200, { status: 'ok' }),
    },
    '/metrics': {
      GET: async (_req, res) => send(res, 200, opts.metrics.contentType, await opts.metrics.text()),
    },
    '/v1/mesh/links': {
      GET: async (req, res) => {
        const m = meshOrThrow(req, res);
        sendJson(res, 200, { id: m.id, links: m.links() });
      },
    },
    '/v1/mesh/routes': {
      GET: async (req, res) => {
        const m = meshOrThrow(req, res);
        sendJson(res, 200, { id: m.id, routes: m.routes() });
      },
    },
    '/openapi.json': {
      GET: async (_req, res) => sendJson(res, 200, relayOpenapi),
    },
    '/v1/webtransport': {
      // What a browser needs for `new WebTransport(url, { serverCertificateHashes })`.
      GET: async (_req, res) => {
        // Public and credential-free: pages of any origin read it before opening a session.
        res.setHeader('access-control-allow-origin', '*');
        sendJson(res, 200, opts.webTransport?.() ?? { enabled: false, port: null, path: null, serverCertificateHashes: [] });
      },
    },
    '/v1/edges': {
      GET: async (_req, res) => sendJson(res, 200, { edges: opts.edges() }),
    },
    '/v1/get-token': {
      // Only the token goes back: the stored record holds the secret's hash and internal fields.
      POST:
        proxy === undefined
          ? admin((b) => opts.tokens.issue(b), (r) => ({ token: (r as { token: string }).token }))
          : forward('issue', (r) => ({ token: (r as { token: string }).token })),
    },
    '/v1/refresh-token': {
      PUT: proxy === undefined ? admin((b) => opts.tokens.refresh(b), (r) => r) : forward('refresh', (r) => r),
    },
    '/v1/revoke-token': {
      DELETE: proxy === undefined ? admin((b) => opts.tokens.revoke(b), (r) => r) : forward('revoke', (r) => r),
    },
  };
  const publish = opts.publish;
  if (publish !== undefined) routes['/v1/publish'] = { POST: publish.batch() };
  const prefixes = [
    ...(publish === undefined ? [] : [{ prefix: '/v1/publish/', methods: { POST: (rest: string) => publish.single(rest) } }]),
    ...(opts.prefixRoutes ?? []),
  ];

  /** The handlers of a path: an exact route, else the first matching prefix route. */
  const lookup = (path: string): Partial<Record<string, Handler>> | undefined => {
    const exact = routes[path];
    if (exact !== undefined) return exact;
    for (const p of prefixes) {
      if (!path.startsWith(p.prefix)) continue;
      const rest = path.slice(p.prefix.length);
      const bound: Partial<Record<string, Handler>> = {};
      for (const [method, make] of Object.entries(p.methods)) if (make !== undefined) bound[method] = make(rest);
      return bound;
    }
    return undefined;
  };

  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const methods = lookup(path);
    const handler = methods?.[req.method ?? 'GET'];
    let result: Promise<void>;
    if (methods === undefined) {
      result = Promise.reject(new FpsError(ErrorCode.NotFound, `no route ${path}`));
    } else if (handler === undefined) {
      res.setHeader('Allow', Object.keys(methods).join(', '));
      sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method ?? ''} is not allowed on ${path}` });
      return;
    } else {
      result = handler(req, res);
    }
    result.catch((err: unknown) => {
      const fps = isFpsError(err) ? err : undefined;
      if (fps === undefined) opts.logger.error('http handler failed', { path, err });
      const code = fps?.code ?? ErrorCode.Internal;
      const status = httpStatusFor(code);
      if (status === 413) res.setHeader('Connection', 'close'); // the rest of the body is not read
      if (status === 429 && !res.headersSent) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      const detail = fps?.detail === undefined ? {} : { detail: fps.detail };
      sendJson(res, status, { error: code, message: fps?.message ?? 'internal error', ...detail });
    });
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
