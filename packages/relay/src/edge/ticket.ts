// The seam between the edges and access tickets: what an edge needs from the token service,
// structurally, so edges depend on this small interface and only node.ts knows the concrete
// TokenService behind it.

export interface EdgeTicket {
  readonly tokenId: string;
  /** Tenants named in the token's grants: the connection counts against each one's capacity. */
  readonly tenants?: readonly string[];
  canPublish(tenant: string, channel: string): boolean;
  canSubscribe(tenant: string, pattern: string): boolean;
  isExpired(nowMs: number): boolean;
  /** Called once by the edge when the connection admitted with this ticket ends (limits). */
  release?(): void;
}

export interface AdmissionContext {
  /** The client's address as the socket reports it. */
  ip: string;
  /** Browser Origin header, when present (contract §10.10: absent is allowed). */
  origin?: string;
  /** This edge's region, for `allow_regions`. */
  region: string;
}

export interface TicketVerifier {
  /** Rejects with FpsError unauthorized | token_expired | token_revoked | forbidden. */
  verify(token: string | undefined, context: AdmissionContext): Promise<EdgeTicket>;
  /** Calls `listener` with the id of every token revoked from now on; returns an unsubscribe. */
  onRevoked(listener: (tokenId: string) => void): () => void;
}
