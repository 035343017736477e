// WebTransport on the QUIC edge's UDP port: a connection that negotiated ALPN `h3` carries one
// WebTransport session, and its CONNECT path picks the protocol. At WEBTRANSPORT_PATH it is
// our native protocol (docs/webtransport.md): once the session is open the connection behaves
// exactly like a QUIC edge connection (streams and datagrams without the WebTransport
// prefixes, close codes as session close codes), so the QUIC edge's session code serves it
// with the same dispatcher, auth, limits, metrics and revocation. Any other path is refused
// At `/` and `/wt` it is the contract's WebTransport (contract-session.ts). Any other path is
// refused with 404; no CONNECT within the auth timeout closes the connection with AuthTimeout.
import type { QuicConnection, WebTransportSessionInfo } from '@fastpubsub/quic';
import { ErrorCode } from '@fastpubsub/core';
import { QuicCloseCode } from '@fastpubsub/wire';

/** The CONNECT path of the native protocol over WebTransport. */
export const WEBTRANSPORT_PATH = '/fastpubsub';
/** The CONNECT paths of the contract's WebTransport (contract v0.1 §11.2). */
export const CONTRACT_WT_PATHS: readonly string[] = ['/', '/wt'];
/** The ALPN WebTransport rides on. */
export const H3_ALPN = 'h3';

export interface WebTransportRoutes {
  /** A session at WEBTRANSPORT_PATH, accepted: serve it as a QUIC edge connection. */
  native(c: QuicConnection, info: WebTransportSessionInfo): void;
  /** A session at `/` or `/wt` (not yet answered): the contract's WebTransport. */
  contract(c: QuicConnection, info: WebTransportSessionInfo): void;
  /** A session refused (wrong path, no CONNECT in time): reason for the refusal counter. */
  refused(reason: 'webtransport_path' | 'webtransport_no_connect'): void;
}

export function routeWebTransport(c: QuicConnection, routes: WebTransportRoutes, connectTimeoutMs: number): void {
  const timer = setTimeout(() => {
    routes.refused('webtransport_no_connect');
    c.close(QuicCloseCode.AuthTimeout, ErrorCode.Unauthorized);
  }, connectTimeoutMs);
  timer.unref();
  const decide = (info: WebTransportSessionInfo): void => {
    clearTimeout(timer);
    const path = info.path.split('?')[0];
    if (path === WEBTRANSPORT_PATH) {
      c.respondSession(200);
      routes.native(c, info);
      return;
    }
    if (path !== undefined && CONTRACT_WT_PATHS.includes(path)) return routes.contract(c, info);
    routes.refused('webtransport_path');
    c.respondSession(404);
  };
  c.on('close', () => clearTimeout(timer));
  // The session may already have arrived in the same event batch as the connection.
  if (c.webTransportSession !== undefined) decide(c.webTransportSession);
  else c.once('session', decide);
}
