// QUIC application error codes the relay's QUIC edge uses (spec/protocol.md §3 "QUIC edge codes"). The
// close reason string carries the matching ErrorCode so a client can report it without a table.

/** CONNECTION_CLOSE application codes. */
export const QuicCloseCode = {
  /** Normal close (client or server done). */
  Normal: 0x0,
  /** AUTH failed: unauthorized, token_expired, token_revoked, forbidden (reason says which). */
  Unauthorized: 0x1,
  /** The token was revoked while connected. */
  TokenRevoked: 0x2,
  /** The relay is shutting down: reconnect (elsewhere) at once. */
  GoingAway: 0x3,
  /** Framing broke on the control stream (bad header, oversize length): cannot resync. */
  ProtocolError: 0x4,
  /** No AUTH within the auth timeout. */
  AuthTimeout: 0x5,
  /** Connection limit reached. */
  TooManyConnections: 0x6,
  /** The control stream's reply buffer overflowed (client not reading it). */
  SlowConsumer: 0x7,
  Internal: 0x8,
} as const;

/** RESET_STREAM / STOP_SENDING codes on subscription and control streams. */
export const QuicStreamCode = {
  /** The subscription was unsubscribed or its connection is closing. */
  Cancelled: 0x0,
  /** The subscription's queue overflowed under the 'reset' policy. */
  SlowConsumer: 0x10,
  /** A stream the protocol does not define (extra client-opened streams). */
  Unexpected: 0x11,
} as const;

/** The QUIC edge's ALPN protocol id. */
export const ALPN = 'fastpubsub/1';

/** ERR code (id 0) with which the relay asks a QUIC client to reconnect (graceful shutdown). */
export const QUIC_RECONNECT_CODE = 'reconnect';
