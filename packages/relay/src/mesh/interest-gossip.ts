// Interest gossip: mirrors the Dispatcher's local subscriptions into the InterestTable, floods
// INTEREST snapshots (a triggered update at the end of the event-loop turn, plus on every tick
// if still pending), re-floods newer snapshots from peers, and routes INTEREST_ACKs back to
// their origin so interestReady() knows when every reachable PoP holds our current interest.
import type { Frame } from '@fastpubsub/wire';
import { decodeInterest, decodeInterestAck, encodeInterest, encodeInterestAck } from '@fastpubsub/wire';
import type { InterestSnapshot, InterestTable, Router } from './route/index.js';
import type { MeshLink } from './link/link.js';
import type { InterestPropagation } from './interest/propagation.js';

// Hop bound of an INTEREST_ACK on its way back to the origin (as FWD's TTL).
const ACK_TTL = 8;
/** A PoP with no route for this long is gone for good: its interest is forgotten. */
const INTEREST_EXPIRY_MS = 60_000;

export interface InterestGossipOptions {
  self: string;
  interest: InterestTable;
  propagation: InterestPropagation;
  router: Router;
  links: () => ReadonlyMap<string, MeshLink>;
  /** The patterns local subscribers of `tenant` hold now (the Dispatcher's interestOf). */
  localInterestOf: (tenant: string) => string[];
  /** Sends a control frame on every link but `except`. */
  flood: (frame: Uint8Array, except: string | undefined) => number;
}

export class InterestGossip {
  readonly #o: InterestGossipOptions;
  /** tenant → patterns last pushed into the InterestTable (to diff against the Dispatcher). */
  readonly #mirror = new Map<string, Set<string>>();
  #dirty = false;
  #floodScheduled = false;

  constructor(o: InterestGossipOptions) {
    this.#o = o;
  }

  /** Re-reads one tenant's local interest; a change is flooded at the end of this turn. */
  syncTenant(tenant: string): void {
    const interest = this.#o.interest;
    const now = new Set(this.#o.localInterestOf(tenant));
    const had = this.#mirror.get(tenant) ?? new Set<string>();
    let changed = false;
    for (const p of now) if (!had.has(p)) changed = interest.addLocal(tenant, p) || changed;
    for (const p of had) if (!now.has(p)) changed = interest.removeLocal(tenant, p) || changed;
    if (now.size === 0) this.#mirror.delete(tenant);
    else this.#mirror.set(tenant, now);
    // A triggered update: sent at the end of this turn of the event loop, so a burst of
    // subscriptions still costs one INTEREST per link but nobody waits for the next tick.
    if (!changed) return;
    this.#dirty = true;
    if (this.#floodScheduled) return;
    this.#floodScheduled = true;
    queueMicrotask(() => {
      this.#floodScheduled = false;
      this.flush();
    });
  }

  /** Floods the local snapshot now if it changed (a triggered update, not a periodic one). */
  flush(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const s = this.#o.interest.localSnapshot();
    this.#o.flood(encodeInterest({ origin: s.pop, seq: s.version, tenants: cloneTenants(s) }), undefined);
  }

  /** Periodic work: forget PoPs unreachable for long, send a pending change. */
  tick(now: number): void {
    this.#o.interest.expireUnreachable(now, (pop) => this.#o.router.route(pop) !== undefined, INTEREST_EXPIRY_MS);
    this.flush();
  }

  /** A new link: send it everything we know about interest, so the peer is current at once. */
  greet(link: MeshLink): void {
    for (const s of this.#o.interest.newerThan({})) link.sendControl(encodeInterest({ origin: s.pop, seq: s.version, tenants: cloneTenants(s) }));
  }

  /** An INTEREST frame from `link`: apply it; if it was news, flood it on and acknowledge it. */
  onInterest(link: MeshLink, f: Frame<number>): void {
    const i = decodeInterest(f);
    const snap: InterestSnapshot = { pop: i.origin, version: i.seq, tenants: i.tenants };
    if (this.#o.interest.apply(snap)) {
      this.#o.flood(encodeInterest(i), link.peer);
      this.#routeAck({ origin: i.origin, seq: i.seq, from: this.#o.self, ttl: ACK_TTL }, link.peer);
    }
  }

  /** An INTEREST_ACK from `link`: ours is recorded, anyone else's is passed one hop on. */
  onInterestAck(link: MeshLink, f: Frame<number>): void {
    const a = decodeInterestAck(f);
    if (a.origin === this.#o.self) this.#o.propagation.onAck(a.from, a.seq);
    else if (a.ttl > 0) this.#routeAck({ ...a, ttl: a.ttl - 1 }, link.peer);
  }

  /**
   * Resolves true once every PoP this relay can route to holds its current local interest (so
   * forwards matching publishes here), false after `timeoutMs`. A pending change is sent now.
   */
  ready(timeoutMs: number): Promise<boolean> {
    this.flush();
    return this.#o.propagation.whenPropagated(this.#o.interest.localSnapshot().version, timeoutMs);
  }

  /** Sends an INTEREST_ACK one hop towards its origin: the best route's next hop, else the link it came by. */
  #routeAck(ack: { origin: string; seq: number; from: string; ttl: number }, cameFrom: string): void {
    const links = this.#o.links();
    const hop = links.has(ack.origin) ? ack.origin : (this.#o.router.route(ack.origin)?.nextHop ?? cameFrom);
    const link = links.get(hop);
    if (link === undefined || link.isClosed) return;
    link.sendControl(encodeInterestAck(ack));
  }
}

function cloneTenants(s: InterestSnapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [t, p] of Object.entries(s.tenants)) out[t] = [...p];
  return out;
}
