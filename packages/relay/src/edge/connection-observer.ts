// The edges' seam to connection insights (telemetry/connections.ts: GeoIP country, User-Agent
// class, bot flags): an edge reports each authenticated connection and its publish frames.
// node.ts wires the implementation; an edge without one reports nothing.

export interface ObservedConnection {
  /** One publish frame received (counted before any check, for the impossible-rate signal). */
  published(): void;
  /** The connection ended (idempotent). */
  closed(): void;
}

export interface ConnectionObserver {
  opened(info: { edge: 'ws' | 'quic'; ip: string; userAgent?: string | undefined; tenants: readonly string[]; tokenId: string }): ObservedConnection;
}
