import { CompiledGrants, CompiledRights, type EdgeProtocol } from '@fastpubsub/protocol';
import type { TokenRecord } from '@fastpubsub/protocol';

/** Per-ticket memo of scope checks; cleared when full, which keeps memory bounded and O(1). */
const CACHE_LIMIT = 1024;

/**
 * What a connection holds after the handshake: the token's scope, checked per publish and SUB
 * without touching the store. Grants cannot change after issue (refresh changes only the
 * expiry), so the answers are safe to memoize for the connection's lifetime.
 */
export class Ticket {
  readonly tokenId: string;
  /** Expiry at verify time; a later refresh does not update an existing ticket. */
  readonly expiresAtMs: number;
  readonly #grants: CompiledGrants;
  readonly #rights: CompiledRights;
  readonly #pub = new Map<string, boolean>();
  readonly #sub = new Map<string, boolean>();

  constructor(record: Pick<TokenRecord, 'id' | 'expiresAtMs' | 'right'>, grants?: CompiledGrants, rights?: CompiledRights) {
    this.tokenId = record.id;
    this.expiresAtMs = record.expiresAtMs;
    this.#grants = grants ?? new CompiledGrants(record.right);
    this.#rights = rights ?? new CompiledRights(record.right);
  }

  allowsProtocol(protocol: EdgeProtocol): boolean {
    return this.#rights.allowsProtocol(protocol);
  }

  get ingressBytesPerSec(): number {
    return this.#rights.ingressBytesPerSec;
  }

  get egressBytesPerSec(): number {
    return this.#rights.egressBytesPerSec;
  }

  canPublish(tenant: string, channel: string): boolean {
    return memo(this.#pub, tenant, channel, () => this.#grants.canPublish(tenant, channel));
  }

  canSubscribe(tenant: string, pattern: string): boolean {
    return memo(this.#sub, tenant, pattern, () => this.#grants.canSubscribe(tenant, pattern));
  }

  /** The tenants named in the token's grants. */
  get tenants(): readonly string[] {
    return this.#grants.tenants;
  }

  isExpired(nowMs: number): boolean {
    return nowMs >= this.expiresAtMs;
  }
}

function memo(cache: Map<string, boolean>, tenant: string, text: string, compute: () => boolean): boolean {
  const key = `${tenant.length}:${tenant}${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const v = compute();
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, v);
  return v;
}
