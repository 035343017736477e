// Errors raised by the QUIC binding. Codes are stable: never rename one, only add.

export const QuicErrorCode = {
  ConnectFailed: 'quic_connect_failed',
  ConnectionClosed: 'quic_connection_closed',
  EndpointClosed: 'quic_endpoint_closed',
  StreamClosed: 'quic_stream_closed',
  StreamOpenFailed: 'quic_stream_open_failed',
  NotWritable: 'quic_not_writable',
  NotReadable: 'quic_not_readable',
  DatagramTooLarge: 'quic_datagram_too_large',
  DatagramUnsupported: 'quic_datagram_unsupported',
  DatagramDisabled: 'quic_datagram_disabled',
  InvalidOptions: 'quic_invalid_options',
} as const;

export type QuicErrorCode = (typeof QuicErrorCode)[keyof typeof QuicErrorCode];

export class QuicError extends Error {
  readonly code: QuicErrorCode;
  /** For ConnectFailed: how the attempt ended (see QuicCloseInfo.how). */
  readonly how: string | undefined;
  /** QUIC transport or application error code, when the peer or stack sent one. */
  readonly wireCode: number | undefined;

  constructor(code: QuicErrorCode, message: string, options?: { how?: string; wireCode?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'QuicError';
    this.code = code;
    this.how = options?.how;
    this.wireCode = options?.wireCode;
  }
}
