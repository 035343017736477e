// Shapes of contract v0.1 §7 (snake_case fields are the wire JSON, kept as-is so a record can
// be echoed and stored without a mapping layer).

export interface TenantGrant {
  tenant_ids: string[];
  allow_channels_pub: string[];
  allow_channels_sub: string[];
}

import type { TokenRightsFields } from './rights.js';

/** Grants, handshake restrictions and (contract §11.7) protocols and rates, as stored. */
export interface TokenRight extends TokenRightsFields {
  tenant_grants: TenantGrant[];
  allow_ip_masks: string[];
  allow_regions: string[];
  allowed_ws_origin: string[];
  /** RFC 3339 text as received; expiresAtMs on the record is authoritative. */
  expires_at: string;
}

export interface TokenRecord {
  id: string;
  /** Hex SHA-256 of the secret; the secret itself is never stored. */
  secretHash: string;
  right: TokenRight;
  expiresAtMs: number;
  createdBy: string;
  description?: string;
  createdAtMs: number;
  revoked: boolean;
  revokedAtMs?: number;
}
