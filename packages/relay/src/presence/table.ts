// The presence table of one PoP (pure: no I/O, time is a parameter). It holds
//   - the local members: (tenant, channel) → clientId → data and the connections holding it;
//   - what every other PoP (origin) last told us about its members, with its epoch and seq;
//   - the mesh-wide view: (tenant, channel) → clientId → the PoPs where it is present.
// A client id present at several PoPs, or on several connections, is one member. Joins and
// leaves of the mesh-wide view (first join / last leave of a client id) go to `onChange`.
// Local changes are coalesced until takeDelta(): a join storm costs one batch per flush.
import { smallestAfter } from './smallest.js';

export interface MemberInfo {
  clientId: string;
  data?: unknown;
}

export type PresenceEventKind = 'join' | 'leave';
export type ChangeListener = (tenant: string, channel: string, kind: PresenceEventKind, member: MemberInfo) => void;

interface LocalMember {
  data: unknown;
  conns: Set<string>;
}

interface Origin {
  epoch: string;
  seq: number;
  lastHeardMs: number;
  beat: number;
  /** channel key → clientId → data */
  members: Map<string, Map<string, unknown>>;
}

/** The key of (tenant, channel); '\0' occurs in neither. */
export const channelKey = (tenant: string, channel: string): string => `${tenant}\0${channel}`;
const splitKey = (key: string): [string, string] => key.split('\0') as [string, string];

export class PresenceTable {
  readonly self: string;
  readonly #local = new Map<string, Map<string, LocalMember>>();
  /** What the mesh was last told about our members (channel key → clientId → data). */
  readonly #published = new Map<string, Map<string, unknown>>();
  /** (channel key, clientId) pairs changed locally since the last takeDelta. */
  readonly #dirty = new Map<string, Set<string>>();
  readonly #origins = new Map<string, Origin>();
  /** channel key → clientId → (pop → data) */
  readonly #view = new Map<string, Map<string, Map<string, unknown>>>();
  #seq = 0;
  #onChange: ChangeListener | undefined;

  constructor(self: string) {
    this.self = self;
  }

  onChange(listener: ChangeListener | undefined): void {
    this.#onChange = listener;
  }

  get seq(): number {
    return this.#seq;
  }

  // ---- local members -------------------------------------------------------------------------

  /** A connection joins; returns true if the client id was not yet present locally. */
  join(tenant: string, channel: string, clientId: string, conn: string, data: unknown): boolean {
    const key = channelKey(tenant, channel);
    let members = this.#local.get(key);
    if (members === undefined) this.#local.set(key, (members = new Map<string, LocalMember>()));
    const m = members.get(clientId);
    if (m !== undefined) {
      m.conns.add(conn);
      if (data !== undefined && JSON.stringify(data) !== JSON.stringify(m.data)) {
        m.data = data;
        this.#markDirty(key, clientId);
        this.#setView(key, clientId, this.self, data);
      }
      return false;
    }
    members.set(clientId, { data, conns: new Set([conn]) });
    this.#markDirty(key, clientId);
    this.#setView(key, clientId, this.self, data);
    return true;
  }

  /** A connection leaves; returns true if that was the client id's last local connection. */
  leave(tenant: string, channel: string, clientId: string, conn: string): boolean {
    const key = channelKey(tenant, channel);
    const members = this.#local.get(key);
    const m = members?.get(clientId);
    if (members === undefined || m === undefined || !m.conns.delete(conn)) return false;
    if (m.conns.size > 0) return false;
    members.delete(clientId);
    if (members.size === 0) this.#local.delete(key);
    this.#markDirty(key, clientId);
    this.#deleteView(key, clientId, this.self);
    return true;
  }

  /** How many local (channel, client id) memberships a connection holds. */
  hasLocal(tenant: string, channel: string, clientId: string, conn: string): boolean {
    return this.#local.get(channelKey(tenant, channel))?.get(clientId)?.conns.has(conn) ?? false;
  }

  /**
   * The changes since the last call, coalesced against what the mesh was told, as one batch
   * with the next seq (at most `maxChanges` changes, stopping once `maxChars` is reached);
   * undefined if nothing changed.
   */
  takeDelta(maxChanges = Infinity, maxChars = Infinity): { seq: number; changes: Array<[string, string, string, 1, unknown?] | [string, string, string, 0]> } | undefined {
    const changes: Array<[string, string, string, 1, unknown?] | [string, string, string, 0]> = [];
    let chars = 0;
    for (const [key, ids] of this.#dirty) {
      const [tenant, channel] = splitKey(key);
      for (const id of ids) {
        if (changes.length >= maxChanges || chars >= maxChars) return this.#commit(changes);
        chars += changeChars(tenant, channel, id, this.#local.get(key)?.get(id)?.data);
        ids.delete(id);
        const cur = this.#local.get(key)?.get(id);
        const pub = this.#published.get(key);
        if (cur !== undefined) {
          if (pub?.has(id) === true && JSON.stringify(pub.get(id)) === JSON.stringify(cur.data)) continue;
          changes.push(cur.data === undefined ? [tenant, channel, id, 1] : [tenant, channel, id, 1, cur.data]);
          this.#publishedSet(key, id, cur.data);
        } else if (pub?.has(id) === true) {
          changes.push([tenant, channel, id, 0]);
          pub.delete(id);
          if (pub.size === 0) this.#published.delete(key);
        }
      }
      this.#dirty.delete(key);
    }
    return this.#commit(changes);
  }

  #commit<T>(changes: T[]): { seq: number; changes: T[] } | undefined {
    if (changes.length === 0) return undefined;
    return { seq: ++this.#seq, changes };
  }

  /** Our members as last published (what a full list sends), in [tenant, channel, clientId, data?] form. */
  *publishedMembers(): Generator<[string, string, string, unknown?]> {
    for (const [key, ids] of this.#published) {
      const [tenant, channel] = splitKey(key);
      for (const [id, data] of ids) yield data === undefined ? [tenant, channel, id] : [tenant, channel, id, data];
    }
  }

  // ---- other PoPs ----------------------------------------------------------------------------

  /** The state we hold for an origin, or undefined. */
  origin(pop: string): { epoch: string; seq: number; beat: number } | undefined {
    const o = this.#origins.get(pop);
    return o === undefined ? undefined : { epoch: o.epoch, seq: o.seq, beat: o.beat };
  }

  origins(): string[] {
    return [...this.#origins.keys()];
  }

  /** Every member of an origin, for a full list sent on its behalf. */
  *membersOf(pop: string): Generator<[string, string, string, unknown?]> {
    const o = this.#origins.get(pop);
    if (o === undefined) return;
    for (const [key, ids] of o.members) {
      const [tenant, channel] = splitKey(key);
      for (const [id, data] of ids) yield data === undefined ? [tenant, channel, id] : [tenant, channel, id, data];
    }
  }

  /**
   * A delta batch of `pop`. 'ok' applied; 'old' already had it; 'gap' we missed something (or
   * the origin restarted): the caller asks for a full list and nothing was applied.
   */
  applyDelta(pop: string, epoch: string, seq: number, changes: ReadonlyArray<readonly [string, string, string, 0 | 1, unknown?]>, nowMs: number): 'ok' | 'old' | 'gap' {
    const o = this.#origins.get(pop);
    if (o === undefined || o.epoch !== epoch) return 'gap';
    if (seq <= o.seq) return 'old';
    if (seq !== o.seq + 1) return 'gap';
    o.seq = seq;
    o.lastHeardMs = nowMs;
    for (const [tenant, channel, id, present, data] of changes) {
      const key = channelKey(tenant, channel);
      if (present === 1) {
        let ids = o.members.get(key);
        if (ids === undefined) o.members.set(key, (ids = new Map<string, unknown>()));
        ids.set(id, data);
        this.#setView(key, id, pop, data);
      } else {
        const ids = o.members.get(key);
        if (ids?.delete(id) === true) {
          if (ids.size === 0) o.members.delete(key);
          this.#deleteView(key, id, pop);
        }
      }
    }
    return 'ok';
  }

  /**
   * A complete member list of `pop` as of (epoch, seq) replaces what we held, unless we already
   * hold a newer state of the same epoch. Returns whether it was applied. `fromOrigin` false
   * (a list relayed by a neighbour) keeps the time we last heard from `pop` itself, so a
   * neighbour's stale copy of a dead PoP cannot prolong its members' life here.
   */
  applyFull(pop: string, epoch: string, seq: number, members: Iterable<readonly [string, string, string, unknown?]>, nowMs: number, fromOrigin = true): boolean {
    const old = this.#origins.get(pop);
    if (old !== undefined && old.epoch === epoch && old.seq > seq) return false;
    const next = new Map<string, Map<string, unknown>>();
    for (const [tenant, channel, id, data] of members) {
      const key = channelKey(tenant, channel);
      let ids = next.get(key);
      if (ids === undefined) next.set(key, (ids = new Map<string, unknown>()));
      ids.set(id, data);
    }
    // Leaves first (what the old state had and the new lacks), then joins and data changes.
    if (old !== undefined) {
      for (const [key, ids] of old.members) for (const id of ids.keys()) if (next.get(key)?.has(id) !== true) this.#deleteView(key, id, pop);
    }
    for (const [key, ids] of next) for (const [id, data] of ids) this.#setView(key, id, pop, data);
    const lastHeardMs = fromOrigin || old === undefined ? nowMs : old.lastHeardMs;
    this.#origins.set(pop, { epoch, seq, lastHeardMs, beat: old?.beat ?? 0, members: next });
    return true;
  }

  /** A heartbeat: 'ok' (in step), 'old' (a beat we already had), or 'gap' (we miss deltas). */
  heartbeat(pop: string, epoch: string, seq: number, beat: number, nowMs: number): 'ok' | 'old' | 'gap' {
    const o = this.#origins.get(pop);
    if (o === undefined || o.epoch !== epoch || seq > o.seq) return 'gap';
    if (beat <= o.beat) return 'old';
    o.beat = beat;
    o.lastHeardMs = nowMs;
    return 'ok';
  }

  /** Forgets every origin not heard from since `deadlineMs` (their members leave); returns them. */
  expire(deadlineMs: number): string[] {
    const gone: string[] = [];
    for (const [pop, o] of this.#origins) if (o.lastHeardMs < deadlineMs) gone.push(pop);
    for (const pop of gone) this.forget(pop);
    return gone;
  }

  /** Drops an origin and its members. */
  forget(pop: string): void {
    const o = this.#origins.get(pop);
    if (o === undefined) return;
    this.#origins.delete(pop);
    for (const [key, ids] of o.members) for (const id of ids.keys()) this.#deleteView(key, id, pop);
  }

  // ---- the mesh-wide view --------------------------------------------------------------------

  count(tenant: string, channel: string): number {
    return this.#view.get(channelKey(tenant, channel))?.size ?? 0;
  }

  /** Members ordered by client id, `limit` of them after `after` (exclusive); `next` if more. */
  page(tenant: string, channel: string, after: string | undefined, limit: number): { members: MemberInfo[]; next: string | undefined } {
    const ids = this.#view.get(channelKey(tenant, channel));
    if (ids === undefined) return { members: [], next: undefined };
    const page = smallestAfter(ids.keys(), after, limit);
    const members = page.ids.map((id) => memberOf(id, ids.get(id)));
    const last = members[members.length - 1];
    return { members, next: page.more && last !== undefined ? last.clientId : undefined };
  }

  member(tenant: string, channel: string, clientId: string): MemberInfo | undefined {
    const pops = this.#view.get(channelKey(tenant, channel))?.get(clientId);
    return pops === undefined ? undefined : memberOf(clientId, pops);
  }

  #setView(key: string, id: string, pop: string, data: unknown): void {
    let ids = this.#view.get(key);
    if (ids === undefined) this.#view.set(key, (ids = new Map<string, Map<string, unknown>>()));
    let pops = ids.get(id);
    const first = pops === undefined;
    if (pops === undefined) ids.set(id, (pops = new Map<string, unknown>()));
    pops.set(pop, data);
    if (first) this.#emit(key, 'join', id, data);
  }

  #deleteView(key: string, id: string, pop: string): void {
    const ids = this.#view.get(key);
    const pops = ids?.get(id);
    if (ids === undefined || pops === undefined) return;
    const data = pops.get(pop);
    if (!pops.delete(pop) || pops.size > 0) return;
    ids.delete(id);
    if (ids.size === 0) this.#view.delete(key);
    this.#emit(key, 'leave', id, data);
  }

  #emit(key: string, kind: PresenceEventKind, clientId: string, data: unknown): void {
    if (this.#onChange === undefined) return;
    const [tenant, channel] = splitKey(key);
    this.#onChange(tenant, channel, kind, data === undefined ? { clientId } : { clientId, data });
  }

  #markDirty(key: string, id: string): void {
    let ids = this.#dirty.get(key);
    if (ids === undefined) this.#dirty.set(key, (ids = new Set()));
    ids.add(id);
  }

  #publishedSet(key: string, id: string, data: unknown): void {
    let ids = this.#published.get(key);
    if (ids === undefined) this.#published.set(key, (ids = new Map<string, unknown>()));
    ids.set(id, data);
  }
}

/** A change's size in the gossip, in JSON characters (≤ 3 UTF-8 bytes each), for frame budgets. */
export function changeChars(tenant: string, channel: string, clientId: string, data: unknown): number {
  return tenant.length + channel.length + clientId.length + 16 + (data === undefined ? 0 : JSON.stringify(data).length);
}

/** The member's data: the one from the first PoP that has any. */
function memberOf(clientId: string, pops: Map<string, unknown> | undefined): MemberInfo {
  for (const data of pops?.values() ?? []) if (data !== undefined) return { clientId, data };
  return { clientId };
}
