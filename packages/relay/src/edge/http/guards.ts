// Checks in front of the REST handlers: the media type of token calls, the per-IP failed-auth
// throttle, and the credential the mesh introspection endpoints need.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, FpsError } from '@fastpubsub/core';

/** What the REST layer needs from the failed-authentication throttle (limits/auth-failures.ts). */
export interface AuthThrottle {
  retryAfterSeconds(ip: string, edge: string): number;
  failed(ip: string, edge: string, reason: string, token: string | undefined): void;
}

/** Token calls carry JSON; anything else (a form post from a browser page) gets 415. */
export function requireJson(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new FpsError(ErrorCode.UnsupportedMediaType, 'Content-Type must be application/json');
  }
}

/** Refuses a throttled IP with 429 and Retry-After before its credentials are checked. */
export function refuseIfThrottled(throttle: AuthThrottle | undefined, req: IncomingMessage, res: ServerResponse): void {
  const wait = throttle?.retryAfterSeconds(req.socket.remoteAddress ?? '', 'rest') ?? 0;
  if (wait <= 0) return;
  res.setHeader('Retry-After', String(wait));
  throw new FpsError(ErrorCode.RateLimited, `too many failed authentications; retry in ${wait} s`);
}

/** Counts and reports one failed master-token check, then refuses the call with 401. */
export function masterTokenFailed(throttle: AuthThrottle | undefined, req: IncomingMessage, what: string): never {
  throttle?.failed(req.socket.remoteAddress ?? '', 'rest', 'bad_master_token', undefined);
  throw new FpsError(ErrorCode.Unauthorized, `a valid master token is required (Authorization: Bearer <master token>)${what}`);
}
