// What the control plane does for the web console (packages/console): serves its static build
// at /console/ (read from a directory the CLI points at; the control plane imports no console
// code) and hands out the live map's read-only token for the system tenant, where every PoP
// publishes its network state (@fastpubsub/protocol network-state).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NETWORK_STATE_PATTERN, SYSTEM_TENANT, tenantStatsPattern } from '@fastpubsub/protocol';
import type { ControlService } from './service.js';

/** A map token lives this long and is reissued when less than REISSUE_MS of it is left. */
const MAP_TOKEN_TTL_MS = 3_600_000;
const REISSUE_MS = 600_000;

export interface MapToken {
  token: string;
  tenant: string;
  pattern: string;
  expiresAt: string;
  /** PoPs the page may connect to, from the registry. */
  edges: { pop: string; region: string; httpUrl: string; wsUrl: string }[];
}

/**
 * One shared subscribe-only token for the public map: issued once and reused until it nears
 * expiry, so anonymous page loads never write to the store.
 */
export class MapTokens {
  readonly #service: ControlService;
  readonly #now: () => number;
  #current: { token: string; expMs: number } | undefined;
  #issuing: Promise<{ token: string; expMs: number }> | undefined;

  constructor(service: ControlService, now: () => number) {
    this.#service = service;
    this.#now = now;
  }

  async get(): Promise<MapToken> {
    const t = await this.#token();
    const pops = await this.#service.registry.listPops();
    return {
      token: t.token,
      tenant: SYSTEM_TENANT,
      pattern: NETWORK_STATE_PATTERN,
      expiresAt: new Date(t.expMs).toISOString(),
      edges: pops.filter((p) => p.wsUrl !== '').map((p) => ({ pop: p.meshId ?? p.id, region: p.region, httpUrl: p.httpUrl, wsUrl: p.wsUrl })),
    };
  }

  async #token(): Promise<{ token: string; expMs: number }> {
    const cur = this.#current;
    if (cur !== undefined && cur.expMs - this.#now() > REISSUE_MS) return cur;
    this.#issuing ??= (async () => {
      try {
        const expMs = this.#now() + MAP_TOKEN_TTL_MS;
        const { token } = await this.#service.tokens.issueToken(
          { kind: 'operator' },
          {
            right: {
              tenant_grants: [{ tenant_ids: [SYSTEM_TENANT], allow_channels_pub: [], allow_channels_sub: [NETWORK_STATE_PATTERN] }],
              expires_at: new Date(expMs).toISOString(),
            },
            created_by: 'control plane (live map)',
            description: 'read-only token of the public network map',
          },
        );
        this.#current = { token, expMs };
        return this.#current;
      } finally {
        this.#issuing = undefined;
      }
    })();
    return this.#issuing;
  }
}

/**
 * A signed-in console's token: for one hour, publish and subscribe anywhere in its tenant (the
 * publish box and live tail) and read its own traffic stats on the system tenant.
 */
export async function consoleToken(service: ControlService, tenant: string, now: () => number): Promise<{ token: string; tenant: string; statsTenant: string; statsPattern: string; expiresAt: string; edges: MapToken['edges'] }> {
  const expMs = now() + MAP_TOKEN_TTL_MS;
  const { token } = await service.tokens.issueToken(
    { kind: 'operator' },
    {
      right: {
        tenant_grants: [
          { tenant_ids: [tenant], allow_channels_pub: ['#'], allow_channels_sub: ['#'] },
          { tenant_ids: [SYSTEM_TENANT], allow_channels_pub: [], allow_channels_sub: [tenantStatsPattern(tenant)] },
        ],
        expires_at: new Date(expMs).toISOString(),
      },
      created_by: 'web console',
      description: 'console session (publish box, live tail, traffic charts)',
    },
  );
  const pops = await service.registry.listPops();
  return {
    token,
    tenant,
    statsTenant: SYSTEM_TENANT,
    statsPattern: tenantStatsPattern(tenant),
    expiresAt: new Date(expMs).toISOString(),
    edges: pops.filter((p) => p.wsUrl !== '').map((p) => ({ pop: p.meshId ?? p.id, region: p.region, httpUrl: p.httpUrl, wsUrl: p.wsUrl })),
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Serves GET / (redirect) and GET /console/<file> from `dir`; returns false for any other
 * path. Only plain file names of the build are served (no sub-paths, no dot files).
 */
export function serveConsole(dir: string | undefined, req: IncomingMessage, res: ServerResponse, path: string): boolean {
  if (dir === undefined || req.method !== 'GET') return false;
  if (path === '/' || path === '/console') {
    res.writeHead(302, { Location: '/console/' }).end();
    return true;
  }
  if (!path.startsWith('/console/')) return false;
  const name = path === '/console/' ? 'index.html' : path.slice('/console/'.length);
  const ext = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\.[a-z]+)$/.exec(name)?.[1];
  const type = ext === undefined ? undefined : TYPES[ext];
  const notFound = (): void => {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
  };
  if (type === undefined) {
    notFound();
    return true;
  }
  readFile(join(dir, name)).then(
    (body) => {
      res.writeHead(200, {
        'Content-Type': type,
        'Content-Length': body.byteLength,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        // Everything the page needs comes from here; it connects to the PoPs' WebSocket edges.
        'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws: wss: http: https:; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
      });
      res.end(body);
    },
    () => notFound(),
  );
  return true;
}
