// The seam between the edges and access tickets: what an edge needs from the token service,
// structurally, so edges depend on this small interface and only node.ts knows the concrete
// TokenService behind it.

import type { EdgeProtocol } from '@fastpubsub/protocol';

export interface EdgeTicket {
  readonly tokenId: string;
  /** `allow_protocols` (contract §11.7), checked at the handshake: refused → 403. */
  allowsProtocol(protocol: EdgeProtocol): boolean;
  /** Per-connection rate of publish frames, bytes/s (`ingress_kb_per_sec` × 1024). */
  readonly ingressBytesPerSec: number;
  /** Per-connection rate of delivery frames, bytes/s (`egress_kb_per_sec` × 1024). */
  readonly egressBytesPerSec: number;
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
