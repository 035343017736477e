// Presence at one PoP: the PresenceTable plus its clock-driven parts. Edges join and leave
// members and watch channels; the mesh hands this service its links (attach) and every
// PRESENCE frame (receive). Gossip (docs/presence.md):
//   - every flushMs, the local changes since the last flush go out as one delta batch (seq+1),
//     flooded to every link; a PoP that applies a batch floods it on (each applies a seq once);
//   - every heartbeatMs/2 a heartbeat (epoch, seq, beat) is flooded the same way; a PoP that
//     sees a seq it lacks (or an unknown origin or epoch) asks the link it came from for that
//     origin's full member list;
//   - an origin not heard from for deadAfterHeartbeats (default 1.75) × heartbeatMs is forgotten
//     with all its members, so a dead PoP's members leave everywhere within 2 × heartbeatMs;
//   - on a new link both sides send the full lists of every origin they know.
// Watchers get join/leave per client id (first join / last leave mesh-wide); above
// `eventThreshold` members a channel's watchers get one batched count per flush instead.
import { randomBytes } from 'node:crypto';
import { encodePresence, type PresenceFrame, type PresenceMember } from '@fastpubsub/wire';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PresenceConfig } from '@fastpubsub/core';
import { PresenceTable, changeChars, channelKey, type MemberInfo } from './table.js';
import { ReorderBuffer } from './reorder.js';

export interface PresenceLinks {
  /** This PoP's relay id in the mesh. */
  readonly id: string;
  send(peer: string, frame: Uint8Array): void;
  /** Sends to every link but `except`; returns how many links it went to. */
  flood(frame: Uint8Array, except: string | undefined): number;
}

export type PresenceEvent =
  | { type: 'join' | 'leave'; clientId: string; data?: unknown; count: number }
  | { type: 'batch'; joined: number; left: number; count: number };

export type PresenceWatcher = (event: PresenceEvent) => void;

export interface PresenceOptions {
  heartbeatMs?: number;
  flushMs?: number;
  eventThreshold?: number;
  /** An origin silent for this many heartbeats is forgotten (default 1.75). */
  deadAfterHeartbeats?: number;
  /** The largest member data (bytes of its JSON) the edges accept; default 1024. */
  maxMemberDataBytes?: number;
  registry?: Registry;
  /** Monotonic ms; default performance.now. */
  now?: () => number;
}

export const DEFAULT_PRESENCE_HEARTBEAT_MS = 1000;
export const DEFAULT_PRESENCE_FLUSH_MS = 50;
export const DEFAULT_PRESENCE_EVENT_THRESHOLD = 1000;
export const DEFAULT_PRESENCE_DEAD_AFTER_HEARTBEATS = 1.75;
export const DEFAULT_PRESENCE_MAX_MEMBER_DATA_BYTES = 1024;
/** Changes per delta frame and members per full-list part, at most. */
const CHANGES_PER_FRAME = 2000;
/**
 * JSON characters per frame, at most (changeChars): at ≤ 3 UTF-8 bytes each, a frame stays
 * under the mesh's 1 MiB cap whatever the member data (≤ 4 KiB each).
 */
const FRAME_CHARS = 300 * 1024;
const FULL_REQUEST_GAP_MS = 500;
/** An origin whose batches are still missing this long after a later one arrived has a real gap. */
const REORDER_GRACE_MS = 300;

export class PresenceService {
  readonly table = new PresenceTable('');
  readonly heartbeatMs: number;
  readonly maxMemberDataBytes: number;
  readonly #flushMs: number;
  readonly #threshold: number;
  readonly #deadAfterHeartbeats: number;
  readonly #now: () => number;
  readonly #epoch = randomBytes(8).toString('hex');
  readonly #watchers = new Map<string, Set<PresenceWatcher>>();
  /** Batched event counts of channels above the threshold: key → {joined, left}. */
  readonly #batched = new Map<string, { joined: number; left: number }>();
  /** connection → member keys `${channelKey}\0${clientId}` it holds. */
  readonly #byConn = new Map<string, Set<string>>();
  /** (peer, origin) → full-list parts received so far. */
  readonly #staging = new Map<string, PresenceMember[]>();
  readonly #requested = new Map<string, number>();
  readonly #reorder = new ReorderBuffer();
  readonly #bytes: Counter<'direction'> | undefined;
  readonly #fullRequests: Counter | undefined;
  #links: PresenceLinks | undefined;
  #beat = 0;
  #timers: NodeJS.Timeout[] = [];

  /** A service with the relay config's presence timings and limits. */
  static fromConfig(c: PresenceConfig, registry: Registry): PresenceService {
    const { heartbeatMs, batchIntervalMs: flushMs, deadAfterHeartbeats, eventThreshold, maxMemberDataBytes } = c;
    return new PresenceService({ registry, heartbeatMs, flushMs, deadAfterHeartbeats, eventThreshold, maxMemberDataBytes });
  }

  constructor(o: PresenceOptions = {}) {
    this.heartbeatMs = o.heartbeatMs ?? DEFAULT_PRESENCE_HEARTBEAT_MS;
    this.#flushMs = o.flushMs ?? DEFAULT_PRESENCE_FLUSH_MS;
    this.#threshold = o.eventThreshold ?? DEFAULT_PRESENCE_EVENT_THRESHOLD;
    this.maxMemberDataBytes = o.maxMemberDataBytes ?? DEFAULT_PRESENCE_MAX_MEMBER_DATA_BYTES;
    this.#deadAfterHeartbeats = o.deadAfterHeartbeats ?? DEFAULT_PRESENCE_DEAD_AFTER_HEARTBEATS;
    this.#now = o.now ?? (() => performance.now());
    this.table.onChange((tenant, channel, kind, m) => this.#onChange(tenant, channel, kind, m));
    if (o.registry !== undefined) {
      this.#bytes = new Counter({ name: 'fastpubsub_presence_mesh_bytes_total', help: 'Bytes of PRESENCE frames on mesh links, by direction.', labelNames: ['direction'], registers: [o.registry] });
      this.#bytes.inc({ direction: 'sent' }, 0);
      this.#bytes.inc({ direction: 'received' }, 0);
      this.#fullRequests = new Counter({ name: 'fastpubsub_presence_full_requests_total', help: 'Full member lists this PoP asked a link for (a gap in an origin\'s batches, or an origin it did not know).', registers: [o.registry] });
      const table = this.table;
      const byConn = this.#byConn;
      new Gauge({
        name: 'fastpubsub_presence_local_memberships',
        help: 'Connections joined to a presence channel at this PoP.',
        registers: [o.registry],
        collect() {
          let n = 0;
          for (const s of byConn.values()) n += s.size;
          this.set(n);
        },
      });
      new Gauge({
        name: 'fastpubsub_presence_origins',
        help: 'Other PoPs whose presence this PoP holds.',
        registers: [o.registry],
        collect() {
          this.set(table.origins().length);
        },
      });
    }
  }

  start(): void {
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#flushMs, () => this.flush());
    every(this.heartbeatMs / 2, () => this.#heartbeat());
    every(Math.max(10, this.heartbeatMs / 8), () => {
      const now = this.#now();
      for (const gone of this.table.expire(now - this.#deadAfterHeartbeats * this.heartbeatMs)) this.#reorder.forget(gone);
      for (const { origin, peer } of this.#reorder.overdue(now, REORDER_GRACE_MS)) this.#requestFull(peer, origin);
    });
  }

  close(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  // ---- edges ---------------------------------------------------------------------------------

  join(tenant: string, channel: string, clientId: string, conn: string, data: unknown): void {
    this.table.join(tenant, channel, clientId, conn, data);
    let keys = this.#byConn.get(conn);
    if (keys === undefined) this.#byConn.set(conn, (keys = new Set()));
    keys.add(`${channelKey(tenant, channel)}\0${clientId}`);
  }

  leave(tenant: string, channel: string, clientId: string, conn: string): void {
    this.table.leave(tenant, channel, clientId, conn);
    this.#byConn.get(conn)?.delete(`${channelKey(tenant, channel)}\0${clientId}`);
  }

  /** Every membership of a connection that went away. */
  leaveConnection(conn: string): void {
    const keys = this.#byConn.get(conn);
    if (keys === undefined) return;
    this.#byConn.delete(conn);
    for (const k of keys) {
      const [tenant, channel, clientId] = k.split('\0') as [string, string, string];
      this.table.leave(tenant, channel, clientId, conn);
    }
  }

  /** How many channels a connection is a member of (for per-connection limits). */
  membershipsOf(conn: string): number {
    return this.#byConn.get(conn)?.size ?? 0;
  }

  watch(tenant: string, channel: string, watcher: PresenceWatcher): () => void {
    const key = channelKey(tenant, channel);
    let set = this.#watchers.get(key);
    if (set === undefined) this.#watchers.set(key, (set = new Set()));
    set.add(watcher);
    return () => {
      const s = this.#watchers.get(key);
      if (s?.delete(watcher) === true && s.size === 0) this.#watchers.delete(key);
    };
  }

  count(tenant: string, channel: string): number {
    return this.table.count(tenant, channel);
  }

  page(tenant: string, channel: string, after: string | undefined, limit: number): { count: number; members: MemberInfo[]; next: string | undefined } {
    return { count: this.table.count(tenant, channel), ...this.table.page(tenant, channel, after, limit) };
  }

  // ---- mesh ----------------------------------------------------------------------------------

  attach(links: PresenceLinks | undefined): void {
    this.#links = links;
  }

  /** A new link: tell the peer everything we know, so it is current at once. */
  linkUp(peer: string): void {
    const l = this.#links;
    if (l === undefined) return;
    this.#sendFull(peer, l.id, this.#epoch, this.table.seq, this.table.publishedMembers());
    for (const origin of this.table.origins()) {
      const st = this.table.origin(origin);
      if (st !== undefined && origin !== peer) this.#sendFull(peer, origin, st.epoch, st.seq, this.table.membersOf(origin));
    }
  }

  receive(peer: string, f: PresenceFrame, bytes: number): void {
    const l = this.#links;
    this.#bytes?.inc({ direction: 'received' }, bytes);
    if (l === undefined) return;
    if (f.k === 'r') {
      if (f.o === l.id) this.#sendFull(peer, l.id, this.#epoch, this.table.seq, this.table.publishedMembers());
      else {
        const st = this.table.origin(f.o);
        if (st !== undefined) this.#sendFull(peer, f.o, st.epoch, st.seq, this.table.membersOf(f.o));
      }
      return;
    }
    if (f.o === l.id) return; // our own, flooded back
    const now = this.#now();
    switch (f.k) {
      case 'd': {
        const st = this.table.origin(f.o);
        // Ahead of a batch still on its way over another path: hold it (see reorder.ts).
        if (st !== undefined && st.epoch === f.e && f.s > st.seq + 1) {
          if (!this.#reorder.hold(f, peer, now)) this.#requestFull(peer, f.o);
          return;
        }
        const r = this.table.applyDelta(f.o, f.e, f.s, f.c, now);
        if (r === 'ok') {
          this.#flood(encodePresence(f), peer);
          this.#applyHeld(f.o, now);
        } else if (r === 'gap') this.#requestFull(peer, f.o);
        return;
      }
      case 'h': {
        const st = this.table.origin(f.o);
        if (st !== undefined && st.epoch === f.e && f.s > st.seq) {
          this.#reorder.behind(f.o, f.s, peer, now);
          return;
        }
        const r = this.table.heartbeat(f.o, f.e, f.s, f.b, now);
        if (r === 'ok') this.#flood(encodePresence(f), peer);
        else if (r === 'gap') this.#requestFull(peer, f.o);
        return;
      }
      case 'f': {
        const key = `${peer}\0${f.o}\0${f.e}\0${f.s}`;
        if (f.p === 0) {
          for (const k of this.#staging.keys()) if (k.startsWith(`${peer}\0${f.o}\0`)) this.#staging.delete(k);
          this.#staging.set(key, []);
        }
        const parts = this.#staging.get(key);
        if (parts === undefined) return; // a part whose beginning we never saw
        for (const m of f.m) parts.push(m);
        if (!f.l) return;
        this.#staging.delete(key);
        this.table.applyFull(f.o, f.e, f.s, parts, now, f.o === peer);
        this.#requested.delete(f.o);
        this.#applyHeld(f.o, now);
        return;
      }
    }
  }

  /** Sends the local changes since the last flush (public for tests and the bench). */
  flush(): void {
    for (let i = 0; i < 1000; i++) {
      const d = this.table.takeDelta(CHANGES_PER_FRAME, FRAME_CHARS);
      if (d === undefined) break;
      const l = this.#links;
      if (l !== undefined) this.#flood(encodePresence({ k: 'd', o: l.id, e: this.#epoch, s: d.seq, c: d.changes }), undefined);
    }
    for (const [key, b] of this.#batched) {
      const [tenant, channel] = key.split('\0') as [string, string];
      const ev: PresenceEvent = { type: 'batch', joined: b.joined, left: b.left, count: this.table.count(tenant, channel) };
      for (const w of this.#watchers.get(key) ?? []) w(ev);
    }
    this.#batched.clear();
  }

  /** Applies (and floods on) held batches of `origin` that are now next in line. */
  #applyHeld(origin: string, now: number): void {
    for (let i = 0; i < 1000; i++) {
      const st = this.table.origin(origin);
      if (st === undefined) return;
      const next = this.#reorder.take(origin, st.seq);
      if (next === undefined) return this.#reorder.caughtUp(origin, st.seq);
      const f = next.frame;
      if (this.table.applyDelta(f.o, f.e, f.s, f.c, now) !== 'ok') return;
      this.#flood(encodePresence(f), next.peer);
    }
  }

  #heartbeat(): void {
    const l = this.#links;
    if (l === undefined) return;
    this.#flood(encodePresence({ k: 'h', o: l.id, e: this.#epoch, s: this.table.seq, b: ++this.#beat }), undefined);
  }

  #requestFull(peer: string, origin: string): void {
    const now = this.#now();
    const last = this.#requested.get(origin);
    if (last !== undefined && now - last < FULL_REQUEST_GAP_MS) return;
    this.#requested.set(origin, now);
    this.#fullRequests?.inc();
    this.#send(peer, encodePresence({ k: 'r', o: origin }));
  }

  #sendFull(peer: string, origin: string, epoch: string, seq: number, members: Iterable<[string, string, string, unknown?]>): void {
    let part = 0;
    let batch: PresenceMember[] = [];
    let chars = 0;
    for (const m of members) {
      batch.push(m);
      chars += changeChars(m[0], m[1], m[2], m[3]);
      if (batch.length >= CHANGES_PER_FRAME || chars >= FRAME_CHARS) {
        chars = 0;
        this.#send(peer, encodePresence({ k: 'f', o: origin, e: epoch, s: seq, p: part++, l: false, m: batch }));
        batch = [];
      }
    }
    this.#send(peer, encodePresence({ k: 'f', o: origin, e: epoch, s: seq, p: part, l: true, m: batch }));
  }

  #send(peer: string, frame: Uint8Array): void {
    this.#links?.send(peer, frame);
    this.#bytes?.inc({ direction: 'sent' }, frame.byteLength);
  }

  #flood(frame: Uint8Array, except: string | undefined): void {
    const l = this.#links;
    if (l === undefined) return;
    const n = l.flood(frame, except);
    this.#bytes?.inc({ direction: 'sent' }, frame.byteLength * n);
  }

  #onChange(tenant: string, channel: string, kind: 'join' | 'leave', m: MemberInfo): void {
    const key = channelKey(tenant, channel);
    const watchers = this.#watchers.get(key);
    if (watchers === undefined) return;
    const count = this.table.count(tenant, channel);
    if (count > this.#threshold || this.#batched.has(key)) {
      let b = this.#batched.get(key);
      if (b === undefined) this.#batched.set(key, (b = { joined: 0, left: 0 }));
      if (kind === 'join') b.joined++;
      else b.left++;
      return;
    }
    const ev: PresenceEvent = { type: kind, clientId: m.clientId, ...(m.data === undefined ? {} : { data: m.data }), count };
    for (const w of watchers) w(ev);
  }
}
