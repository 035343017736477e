// Duplicate suppression while connections overlap (contract v0.1 §6 make-before-break).
// Every connection delivers each copy of a message once. A delivery of key K on connection X
// matches the oldest accepted copy of K that X has not delivered yet (it is that copy seen
// again: drop it); if there is none it is a new copy (deliver it). A copy is forgotten once
// every live connection delivered it. Unlike "drop every repeat within 5 s", a publisher
// legitimately sending the same bytes twice still gets both delivered, and this holds for any
// number of overlapping connections (two quick migrations leave three alive). Active only
// while more than one connection is live, so the single-connection hot path pays nothing.

export class OverlapFilter<C> {
  private readonly live = new Set<C>();
  /** key → the copies accepted during the overlap (oldest first), each with who delivered it. */
  private readonly copies = new Map<string, Set<C>[]>();

  /** Starts tracking a connection (when a second one opens). */
  track(conn: C): void {
    this.live.add(conn);
  }

  /** Forgets a connection that closed: it cannot deliver again. */
  forget(conn: C): void {
    if (!this.live.delete(conn)) return;
    if (this.live.size < 2) {
      this.live.clear();
      this.copies.clear();
      return;
    }
    for (const [key, list] of this.copies) {
      const open = list.filter((copy) => !this.complete(copy));
      if (open.length === 0) this.copies.delete(key);
      else this.copies.set(key, open);
    }
  }

  get active(): boolean {
    return this.live.size >= 2;
  }

  private complete(copy: Set<C>): boolean {
    for (const c of this.live) if (!copy.has(c)) return false;
    return true;
  }

  /** True if this delivery is new and should reach the app. */
  accept(conn: C, key: string): boolean {
    const list = this.copies.get(key);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const copy = list[i]!;
        if (copy.has(conn)) continue;
        copy.add(conn);
        if (this.complete(copy)) {
          list.splice(i, 1);
          if (list.length === 0) this.copies.delete(key);
        }
        return false;
      }
    }
    if (!this.live.has(conn)) return true;
    const copy = new Set<C>([conn]);
    if (list === undefined) this.copies.set(key, [copy]);
    else list.push(copy);
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
