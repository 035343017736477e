// Duplicate suppression while two connections overlap (contract v0.1 §6 make-before-break).
// Each live connection counts the (pattern, tenant, channel, payload) keys it delivered and no
// other connection has matched yet. A key arriving on one connection that another connection
// already delivered is the same message seen twice: drop it and consume the other's count.
// Unlike "drop every repeat within 5 s", a publisher legitimately sending the same bytes twice
// still gets both delivered (each connection sees both copies). Active only while more than
// one connection is live, so the single-connection hot path pays nothing.

export class OverlapFilter<C> {
  private readonly seen = new Map<C, Map<string, number>>();

  /** Starts tracking a connection (when a second one opens). */
  track(conn: C): void {
    if (!this.seen.has(conn)) this.seen.set(conn, new Map());
  }

  /** Forgets a connection that closed: it cannot deliver again. */
  forget(conn: C): void {
    this.seen.delete(conn);
    if (this.seen.size < 2) this.seen.clear();
  }

  get active(): boolean {
    return this.seen.size >= 2;
  }

  /** True if this delivery is new and should reach the app. */
  accept(conn: C, key: string): boolean {
    for (const [other, counts] of this.seen) {
      if (other === conn) continue;
      const n = counts.get(key);
      if (n !== undefined) {
        if (n <= 1) counts.delete(key);
        else counts.set(key, n - 1);
        return false;
      }
    }
    const mine = this.seen.get(conn);
    if (mine !== undefined) mine.set(key, (mine.get(key) ?? 0) + 1);
    return true;
  }
}

/** A 53-bit hash of the payload (cyrb53); the key also holds the length. */
export function payloadKey(tenant: string, channel: string, payload: Uint8Array): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i]!;
    h1 = Math.imul(h1 ^ b, 2654435761);
    h2 = Math.imul(h2 ^ b, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hash = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return `${tenant}\u0000${channel}\u0000${payload.length}\u0000${hash.toString(36)}`;
}
