// Presence commands of one client connection, shared by the WebSocket extension (edge/ws) and
// the QUIC edge's PRESENCE frames (edge/quic): the same checks, limits and answers, only the
// encoding differs (docs/presence.md). Every verb needs the subscribe grant for the channel;
// JOIN and LEAVE are rate-limited per connection, so a join storm from one client costs it
// refusals and costs the mesh nothing.
import { ErrorCode } from '@fastpubsub/core';
import { isWireError, validateChannel, validateTenant } from '@fastpubsub/wire';
import type { EdgeTicket } from '../auth/edge-ticket.js';
import { TokenBucket } from '../limits/index.js';
import type { PresenceEvent, PresenceService } from '../presence/service.js';

const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;
/** JOIN/LEAVE per second per connection, and the burst allowed above it. */
export const PRESENCE_CHANGES_PER_SECOND = 20;
export const PRESENCE_CHANGES_BURST = 50;
const PAGE_MAX = 1000;

export type PresenceVerb = 'JOIN' | 'LEAVE' | 'WATCH' | 'UNWATCH' | 'GET';
export const PRESENCE_VERBS: ReadonlySet<string> = new Set<PresenceVerb>(['JOIN', 'LEAVE', 'WATCH', 'UNWATCH', 'GET']);

export interface PresencePageAnswer {
  count: number;
  members: Array<{ clientId: string; data?: unknown }>;
  next: string | null;
}

/** How one command is answered; exactly one of these is called per command. */
export interface PresenceReply {
  ok(): void;
  refuse(code: string): void;
  state(page: PresencePageAnswer): void;
}

export interface PresenceCommandsContext {
  presence: PresenceService;
  ticket: EdgeTicket;
  /** Unique per connection at this PoP. */
  conn: string;
  /** Wall-clock ms. */
  now(): number;
  maxMemberships: number;
  /** Counts a refusal in the metrics. */
  error(code: string): void;
}

export class PresenceCommands {
  readonly #c: PresenceCommandsContext;
  readonly #bucket: TokenBucket;
  /** channel key → the client ids this connection joined as there. */
  readonly #joined = new Map<string, Set<string>>();
  /** Memberships (channel, client id) of this connection, bounded by maxMemberships. */
  #memberships = 0;
  readonly #watching = new Map<string, () => void>();

  constructor(c: PresenceCommandsContext) {
    this.#c = c;
    this.#bucket = new TokenBucket(PRESENCE_CHANGES_PER_SECOND, PRESENCE_CHANGES_BURST, c.now());
  }

  /**
   * Runs one command. `argText` is the optional JSON object (JOIN: clientId, data, add; LEAVE:
   * clientId; GET: limit, after). A JOIN with `"add": true` keeps the connection's other client
   * ids in the channel (a gateway holding many members on one connection); without it the
   * connection is that one client id there. LEAVE without a clientId leaves all of them. `onEvent` receives the watch's events (WATCH only; a repeated WATCH keeps the first).
   */
  run(verb: PresenceVerb, tenant: string, channel: string, argText: string | undefined, reply: PresenceReply, onEvent?: (ev: PresenceEvent) => void): void {
    const c = this.#c;
    const refuse = (code: string): void => {
      c.error(code);
      reply.refuse(code);
    };
    try {
      validateTenant(tenant);
      validateChannel(channel);
    } catch (err) {
      if (isWireError(err)) return refuse(err.code);
      throw err;
    }
    if (c.ticket.isExpired(c.now())) return refuse(ErrorCode.TokenExpired);
    if (!c.ticket.canSubscribe(tenant, channel)) return refuse(ErrorCode.PermissionDenied);
    let args: Record<string, unknown> = {};
    if (argText !== undefined && argText !== '') {
      try {
        const v = JSON.parse(argText) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return refuse(ErrorCode.BadCommand);
        args = v as Record<string, unknown>;
      } catch {
        return refuse(ErrorCode.BadCommand);
      }
    }
    const key = `${tenant}\0${channel}`;
    switch (verb) {
      case 'JOIN': {
        if (!this.#bucket.take(1, c.now())) return refuse(ErrorCode.RateLimited);
        const clientId = args.clientId === undefined ? `${c.ticket.tokenId}:${c.conn}` : args.clientId;
        if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) return refuse(ErrorCode.BadCommand);
        if (args.add !== undefined && typeof args.add !== 'boolean') return refuse(ErrorCode.BadCommand);
        const data = args.data;
        if (data !== undefined && Buffer.byteLength(JSON.stringify(data)) > c.presence.maxMemberDataBytes) return refuse(ErrorCode.PayloadTooLarge);
        const ids = this.#joined.get(key) ?? new Set<string>();
        // Without `add` the connection is this one client id in the channel (the others leave).
        const leaving = args.add === true ? [] : [...ids].filter((id) => id !== clientId);
        if (!ids.has(clientId) && this.#memberships - leaving.length >= c.maxMemberships) return refuse(ErrorCode.TooManySubscriptions);
        for (const id of leaving) this.#leave(tenant, channel, key, ids, id);
        if (!ids.has(clientId)) {
          ids.add(clientId);
          this.#memberships++;
          this.#joined.set(key, ids);
        }
        c.presence.join(tenant, channel, clientId, c.conn, data);
        return reply.ok();
      }
      case 'LEAVE': {
        if (!this.#bucket.take(1, c.now())) return refuse(ErrorCode.RateLimited);
        if (args.clientId !== undefined && typeof args.clientId !== 'string') return refuse(ErrorCode.BadCommand);
        const ids = this.#joined.get(key);
        if (ids !== undefined) for (const id of args.clientId === undefined ? [...ids] : ids.has(args.clientId) ? [args.clientId] : []) this.#leave(tenant, channel, key, ids, id);
        return reply.ok();
      }
      case 'WATCH': {
        if (!this.#watching.has(key) && onEvent !== undefined) {
          if (this.#watching.size >= c.maxMemberships) return refuse(ErrorCode.TooManySubscriptions);
          this.#watching.set(key, c.presence.watch(tenant, channel, onEvent));
        }
        return reply.ok();
      }
      case 'UNWATCH':
        this.#watching.get(key)?.();
        this.#watching.delete(key);
        return reply.ok();
      case 'GET': {
        const limit = args.limit === undefined ? 100 : args.limit;
        const after = args.after;
        if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > PAGE_MAX) return refuse(ErrorCode.BadCommand);
        if (after !== undefined && typeof after !== 'string') return refuse(ErrorCode.BadCommand);
        const page = c.presence.page(tenant, channel, after, limit as number);
        return reply.state({ count: page.count, members: page.members, next: page.next ?? null });
      }
    }
  }

  #leave(tenant: string, channel: string, key: string, ids: Set<string>, clientId: string): void {
    ids.delete(clientId);
    this.#memberships--;
    if (ids.size === 0) this.#joined.delete(key);
    this.#c.presence.leave(tenant, channel, clientId, this.#c.conn);
  }

  /** The connection is gone: its memberships leave, its watches end. */
  dispose(): void {
    this.#c.presence.leaveConnection(this.#c.conn);
    this.#joined.clear();
    this.#memberships = 0;
    for (const stop of this.#watching.values()) stop();
    this.#watching.clear();
  }
}
