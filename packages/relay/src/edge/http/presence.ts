// REST presence: `GET /v1/presence/{tenant}/{channel}?limit=N&after=CURSOR` with an access
// token that may subscribe to the channel → `{"count", "members": [{clientId, data?}], "next"}`.
// Members are ordered by client id; `next` is the cursor of the following page (null at the end).
import { ErrorCode, FpsError, isFpsError } from '@fastpubsub/core';
import { isWireError, validateChannel, validateTenant } from '@fastpubsub/wire';
import type { TicketVerifier } from '../../auth/edge-ticket.js';
import type { PresenceService } from '../../presence/service.js';
import type { HttpHandler } from './publish.js';

export const PRESENCE_PAGE_DEFAULT = 100;
export const PRESENCE_PAGE_MAX = 1000;

export interface PresenceRoutesOptions {
  verifier: TicketVerifier;
  presence: Pick<PresenceService, 'page'>;
  region: string;
}

export function presenceRoutes(o: PresenceRoutesOptions): { prefix: string; methods: { GET: (rest: string) => HttpHandler } } {
  return {
    prefix: '/v1/presence/',
    methods: {
      GET: (rest) => async (req, res) => {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
        if (m === null) throw new FpsError(ErrorCode.Unauthorized, 'an access token is required (Authorization: Bearer AT_…)');
        const origin = req.headers.origin;
        const ticket = await o.verifier.verify(m[1], { ip: req.socket.remoteAddress ?? '', region: o.region, ...(origin === undefined ? {} : { origin }) });
        try {
          const { tenant, channel } = parseTarget(rest);
          if (!ticket.canSubscribe(tenant, channel)) {
            throw new FpsError(ErrorCode.PermissionDenied, `the token may not subscribe to ${tenant}/${channel}`);
          }
          const q = new URL(req.url ?? '/', 'http://x').searchParams;
          const limitText = q.get('limit');
          const limit = limitText === null ? PRESENCE_PAGE_DEFAULT : Number(limitText);
          if (!Number.isInteger(limit) || limit < 1 || limit > PRESENCE_PAGE_MAX) {
            throw new FpsError(ErrorCode.BadRequest, `limit must be an integer 1–${PRESENCE_PAGE_MAX}`);
          }
          const after = q.get('after') ?? undefined;
          const page = o.presence.page(tenant, channel, after, limit);
          const body = JSON.stringify({ count: page.count, members: page.members, next: page.next ?? null });
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
          res.end(body);
        } finally {
          ticket.release?.();
        }
      },
    },
  };
}

function parseTarget(rest: string): { tenant: string; channel: string } {
  const parts = rest.split('/');
  if (parts.length !== 2) throw new FpsError(ErrorCode.BadRequest, 'the path must be /v1/presence/{tenant}/{channel}');
  try {
    const tenant = decodeURIComponent(parts[0] as string);
    const channel = decodeURIComponent(parts[1] as string);
    validateTenant(tenant);
    validateChannel(channel);
    return { tenant, channel };
  } catch (err) {
    if (isWireError(err)) throw new FpsError(ErrorCode.InvalidName, err.message);
    if (isFpsError(err)) throw err;
    throw new FpsError(ErrorCode.BadRequest, 'the path is not valid percent-encoded UTF-8');
  }
}
