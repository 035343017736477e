// The client's subscriptions by (tenant, pattern): the application's Subscription objects that
// share one SUB on the wire, the subscribe() calls waiting for OK:SUB, and what each
// connection confirmed. One SUB per distinct (tenant, pattern), one UNSUB when the last goes.
import { ClientError } from './errors.js';
import type { Conn } from './conn.js';
import type { SubscriptionImpl } from './subscription.js';

export const subKey = (tenant: string, pattern: string): string => `${tenant}\u0000${pattern}`;

export interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface Entry {
  tenant: string;
  pattern: string;
  subs: Set<SubscriptionImpl>;
  /** Latest mode on the wire: set by the first subscription of this (tenant, pattern). */
  latest: boolean;
  /** subscribe() calls waiting for OK:SUB on the active connection. */
  waiters: Set<Waiter>;
}

export class SubscriptionTable {
  readonly #entries = new Map<string, Entry>();

  values(): IterableIterator<Entry> {
    return this.#entries.values();
  }

  get(tenant: string, pattern: string): Entry | undefined {
    return this.#entries.get(subKey(tenant, pattern));
  }

  /** Adds `sub`; `fresh` when its (tenant, pattern) is new, i.e. a SUB must go out. */
  add(sub: SubscriptionImpl): { entry: Entry; fresh: boolean } {
    const k = subKey(sub.tenant, sub.pattern);
    const existing = this.#entries.get(k);
    const entry = existing ?? { tenant: sub.tenant, pattern: sub.pattern, subs: new Set(), waiters: new Set(), latest: sub.latest };
    if (existing === undefined) this.#entries.set(k, entry);
    entry.subs.add(sub);
    return { entry, fresh: existing === undefined };
  }

  /**
   * Removes `sub`. When it was the last of its (tenant, pattern), forgets the entry (rejecting
   * its waiters and every connection's confirmation) and returns it: the caller sends UNSUB.
   */
  remove(sub: SubscriptionImpl, conns: Iterable<Conn>): Entry | undefined {
    const k = subKey(sub.tenant, sub.pattern);
    const entry = this.#entries.get(k);
    if (entry === undefined || !entry.subs.delete(sub) || entry.subs.size > 0) return undefined;
    this.#entries.delete(k);
    for (const w of entry.waiters) w.reject(new ClientError('closed', 'unsubscribed'));
    this.#forget(k, conns);
    return entry;
  }

  /** The edge refused the subscription: ends its subscriptions and waiters with `error`. */
  fail(entry: Entry, error: ClientError, conns: Iterable<Conn>): void {
    const k = subKey(entry.tenant, entry.pattern);
    this.#entries.delete(k);
    for (const w of entry.waiters) w.reject(error);
    for (const s of entry.subs) s.end(error);
    this.#forget(k, conns);
  }

  /** OK:SUB on `conn`; waiters are released when `conn` is the active connection. */
  confirm(conn: Conn, tenant: string, pattern: string, active: boolean): void {
    const k = subKey(tenant, pattern);
    const entry = this.#entries.get(k);
    if (entry === undefined) return;
    conn.confirmed.add(k);
    conn.settle(k);
    if (active) this.#release(entry);
  }

  /** `conn` became active: release the waiters of everything it already confirmed. */
  activated(conn: Conn): void {
    for (const e of this.#entries.values()) if (conn.confirmed.has(subKey(e.tenant, e.pattern))) this.#release(e);
  }

  /** The client closed: ends every subscription (with `error`, if any) and rejects every waiter. */
  endAll(error: Error | undefined): void {
    for (const entry of this.#entries.values()) {
      for (const w of entry.waiters) w.reject(new ClientError('closed', 'client closed'));
      for (const s of entry.subs) s.end(error);
    }
    this.#entries.clear();
  }

  #release(entry: Entry): void {
    for (const w of entry.waiters) w.resolve();
    entry.waiters.clear();
  }

  #forget(k: string, conns: Iterable<Conn>): void {
    for (const c of conns) {
      c.confirmed.delete(k);
      c.settle(k);
    }
  }
}
