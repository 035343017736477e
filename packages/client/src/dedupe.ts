// Duplicate suppression while connections overlap (contract v0.1 §6 make-before-break).
// Every connection delivers each copy of a message once. A delivery of key K on connection X
// matches the oldest accepted copy of K that X has not delivered yet (it is that copy seen
// again: drop it); if there is none it is a new copy (deliver it). A copy is forgotten once
// every live connection delivered it. Unlike "drop every repeat within 5 s", a publisher
// legitimately sending the same bytes twice still gets both delivered, and this holds for any
// number of overlapping connections (two quick migrations leave three alive). Active only
// while more than one connection is live (or a closed one is in its grace period), so the
// single-connection hot path pays nothing.
//
// A closed connection's copies are kept for a grace period (the Java SDK's 2 s): what it
// delivered just before closing may still be on its way through the connection that replaces
// it, and forgetting those copies at once would let them through a second time.

/** How long a closed connection's copies still hold back the same copies on other connections. */
export const OVERLAP_GRACE_MS = 2000;

export interface OverlapFilterOptions {
  /** Monotonic milliseconds (tests inject a fake clock). */
  now?: () => number;
  graceMs?: number;
}

export class OverlapFilter<C> {
  private readonly live = new Set<C>();
  /** Closed connections whose copies still count → the time their grace period ends. */
  private readonly closing = new Map<C, number>();
  /** key → the copies accepted during the overlap (oldest first), each with who delivered it. */
  private readonly copies = new Map<string, Set<C>[]>();
  private readonly now: () => number;
  private readonly graceMs: number;

  constructor(options: OverlapFilterOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.graceMs = options.graceMs ?? OVERLAP_GRACE_MS;
  }

  /** Starts tracking a connection (when a second one opens). */
  track(conn: C): void {
    this.live.add(conn);
  }

  /** A connection closed: it delivers nothing more; its copies stay for the grace period. */
  forget(conn: C): void {
    if (!this.live.delete(conn)) return;
    this.closing.set(conn, this.now() + this.graceMs);
    this.dropCompleteCopies();
  }

  get active(): boolean {
    if (this.live.size >= 2) return true;
    if (this.closing.size === 0) return false;
    this.expireClosing();
    return this.live.size >= 2 || this.closing.size > 0;
  }

  /** True if this delivery is new and should reach the app. */
  accept(conn: C, key: string): boolean {
    this.expireClosing();
    // A closed connection's late delivery is redundant: its successor delivers the message.
    if (this.closing.has(conn)) return false;
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
    if (this.complete(copy)) return true; // the only live connection: nobody else will repeat it
    if (list === undefined) this.copies.set(key, [copy]);
    else list.push(copy);
    return true;
  }

  /** Every live connection delivered this copy (closed ones deliver nothing more). */
  private complete(copy: Set<C>): boolean {
    for (const c of this.live) if (!copy.has(c)) return false;
    return true;
  }

  private expireClosing(): void {
    if (this.closing.size === 0) return;
    const now = this.now();
    let expired = false;
    for (const [conn, until] of this.closing) {
      if (now < until) continue;
      this.closing.delete(conn);
      expired = true;
    }
    if (!expired) return;
    if (this.live.size < 2 && this.closing.size === 0) {
      this.reset();
      return;
    }
    for (const [key, list] of this.copies) {
      const held = list.filter((copy) => {
        for (const c of copy) if (!this.live.has(c) && !this.closing.has(c)) copy.delete(c);
        return copy.size > 0;
      });
      if (held.length === 0) this.copies.delete(key);
      else this.copies.set(key, held);
    }
  }

  private dropCompleteCopies(): void {
    if (this.live.size === 0) {
      this.reset();
      return;
    }
    for (const [key, list] of this.copies) {
      const open = list.filter((copy) => !this.complete(copy));
      if (open.length === 0) this.copies.delete(key);
      else this.copies.set(key, open);
    }
  }

  private reset(): void {
    this.live.clear();
    this.closing.clear();
    this.copies.clear();
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
