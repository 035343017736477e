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
  /** channel key → client id this connection joined as. */
  readonly #joined = new Map<string, string>();
  readonly #watching = new Map<string, () => void>();

  constructor(c: PresenceCommandsContext) {
    this.#c = c;
    this.#bucket = new TokenBucket(PRESENCE_CHANGES_PER_SECOND, PRESENCE_CHANGES_BURST, c.now());
  }

  /**
   * Runs one command. `argText` is the optional JSON object (JOIN: clientId, data; GET: limit,
   * after). `onEvent` receives the watch's events (WATCH only; a repeated WATCH keeps the first).
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
        const data = args.data;
        const maxData = c.presence.maxMemberDataBytes;
        if (data !== undefined && Buffer.byteLength(JSON.stringify(data)) > maxData) return refuse(ErrorCode.PayloadTooLarge);
        const prev = this.#joined.get(key);
        if (prev === undefined && this.#joined.size >= c.maxMemberships) return refuse(ErrorCode.TooManySubscriptions);
        if (prev !== undefined && prev !== clientId) c.presence.leave(tenant, channel, prev, c.conn);
        this.#joined.set(key, clientId);
        c.presence.join(tenant, channel, clientId, c.conn, data);
        return reply.ok();
      }
      case 'LEAVE': {
        if (!this.#bucket.take(1, c.now())) return refuse(ErrorCode.RateLimited);
        const prev = this.#joined.get(key);
        if (prev !== undefined) {
          this.#joined.delete(key);
          c.presence.leave(tenant, channel, prev, c.conn);
        }
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

  /** The connection is gone: its memberships leave, its watches end. */
  dispose(): void {
    this.#c.presence.leaveConnection(this.#c.conn);
    this.#joined.clear();
    for (const stop of this.#watching.values()) stop();
    this.#watching.clear();
  }
}
