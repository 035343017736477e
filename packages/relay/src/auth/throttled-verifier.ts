// The relay's side of failed-authentication throttling (the rule itself, AuthFailureThrottle,
// is shared with the control plane in @fastpubsub/protocol): a TicketVerifier for one edge that
// refuses throttled IPs before their credentials are looked at and records every failure.
import { ErrorCode, FpsError } from '@fastpubsub/core';
import { isAuthFailure, type AuthFailureThrottle } from '@fastpubsub/protocol';
import type { AdmissionContext, EdgeTicket, TicketVerifier } from './edge-ticket.js';

export function throttledVerifier(throttle: AuthFailureThrottle, inner: TicketVerifier, edge: string): TicketVerifier {
  return {
    onRevoked: (listener) => inner.onRevoked(listener),
    verify: async (token: string | undefined, ctx: AdmissionContext): Promise<EdgeTicket> => {
      const wait = throttle.retryAfterSeconds(ctx.ip, edge);
      if (wait > 0) throw new FpsError(ErrorCode.RateLimited, `too many failed authentications; retry in ${wait} s`, { detail: String(wait) });
      try {
        return await inner.verify(token, ctx);
      } catch (err) {
        if (isAuthFailure(err)) throttle.failed(ctx.ip, edge, err.code, token);
        throw err;
      }
    },
  };
}
