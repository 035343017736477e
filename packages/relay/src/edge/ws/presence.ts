// The presence extension of the WebSocket edge: text commands a contract v0.1 client never
// sends, so it never sees their answers either (docs/presence.md has the grammar).
//   PRESENCE:JOIN:{tenant}:{channel}[ {"clientId":"…","data":…}]   → OK:PRESENCE:JOIN:{tenant}:{channel}
//   PRESENCE:LEAVE:{tenant}:{channel}                                → OK:PRESENCE:LEAVE:…
//   PRESENCE:WATCH:{tenant}:{channel} / PRESENCE:UNWATCH:…           → OK:PRESENCE:WATCH:… then
//       PRESENCE:EVENT:{tenant}:{channel} {"type":"join"|"leave"|"batch",…}
//   PRESENCE:GET:{tenant}:{channel}[ {"after":"…","limit":n}]        → PRESENCE:STATE:{tenant}:{channel} {"count",…}
// Refusals: ERR:{code}:PRESENCE:{VERB}:{tenant}:{channel}. Every verb needs the subscribe grant
// for the channel; JOIN and LEAVE are rate-limited per connection (a join storm costs ERRs).
import { ErrorCode } from '@fastpubsub/core';
import { formatErr, isWireError, validateChannel, validateTenant } from '@fastpubsub/wire';
import type { EdgeTicket } from '../../auth/edge-ticket.js';
import { TokenBucket } from '../../limits/index.js';
import type { PresenceService } from '../../presence/service.js';

export const MAX_MEMBER_DATA_BYTES = 1024;
const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;
/** JOIN/LEAVE per second per connection, and the burst allowed above it. */
const CHANGES_PER_SECOND = 20;
const CHANGES_BURST = 50;
const PAGE_MAX = 1000;

type Verb = 'JOIN' | 'LEAVE' | 'WATCH' | 'UNWATCH' | 'GET';
const VERBS = new Set<string>(['JOIN', 'LEAVE', 'WATCH', 'UNWATCH', 'GET']);

export interface WsPresenceContext {
  presence: PresenceService;
  ticket: EdgeTicket;
  /** Unique per connection at this PoP. */
  conn: string;
  send(text: string): void;
  /** Wall-clock ms. */
  now(): number;
  maxMemberships: number;
  error(code: string): void;
}

export class WsPresence {
  readonly #c: WsPresenceContext;
  readonly #bucket: TokenBucket;
  /** channel key → client id this connection joined as. */
  readonly #joined = new Map<string, string>();
  readonly #watching = new Map<string, () => void>();

  constructor(c: WsPresenceContext) {
    this.#c = c;
    this.#bucket = new TokenBucket(CHANGES_PER_SECOND, CHANGES_BURST, c.now());
  }

  /** `text` starts with `PRESENCE:`. */
  handle(text: string): void {
    const c = this.#c;
    const space = text.indexOf(' ');
    const head = space < 0 ? text : text.slice(0, space);
    const argText = space < 0 ? undefined : text.slice(space + 1);
    const parts = head.split(':');
    const verb = parts[1] ?? '';
    if (parts.length !== 4 || !VERBS.has(verb)) return c.send(formatErr(ErrorCode.BadCommand));
    const tenant = parts[2] as string;
    const channel = parts[3] as string;
    const target = `PRESENCE:${verb}:${tenant}:${channel}`;
    const refuse = (code: string): void => {
      c.error(code);
      c.send(formatErr(code, target));
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
    if (argText !== undefined) {
      try {
        const v = JSON.parse(argText) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return refuse(ErrorCode.BadCommand);
        args = v as Record<string, unknown>;
      } catch {
        return refuse(ErrorCode.BadCommand);
      }
    }
    const key = `${tenant}\0${channel}`;
    switch (verb as Verb) {
      case 'JOIN': {
        if (!this.#bucket.take(1, c.now())) return refuse(ErrorCode.RateLimited);
        const clientId = args.clientId === undefined ? `${c.ticket.tokenId}:${c.conn}` : args.clientId;
        if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) return refuse(ErrorCode.BadCommand);
        const data = args.data;
        if (data !== undefined && Buffer.byteLength(JSON.stringify(data)) > MAX_MEMBER_DATA_BYTES) return refuse(ErrorCode.PayloadTooLarge);
        const prev = this.#joined.get(key);
        if (prev === undefined && this.#joined.size >= c.maxMemberships) return refuse(ErrorCode.TooManySubscriptions);
        if (prev !== undefined && prev !== clientId) c.presence.leave(tenant, channel, prev, c.conn);
        this.#joined.set(key, clientId);
        c.presence.join(tenant, channel, clientId, c.conn, data);
        return c.send(`OK:${target}`);
      }
      case 'LEAVE': {
        if (!this.#bucket.take(1, c.now())) return refuse(ErrorCode.RateLimited);
        const prev = this.#joined.get(key);
        if (prev !== undefined) {
          this.#joined.delete(key);
          c.presence.leave(tenant, channel, prev, c.conn);
        }
        return c.send(`OK:${target}`);
      }
      case 'WATCH': {
        if (!this.#watching.has(key)) {
          if (this.#watching.size >= c.maxMemberships) return refuse(ErrorCode.TooManySubscriptions);
          const prefix = `PRESENCE:EVENT:${tenant}:${channel} `;
          this.#watching.set(key, c.presence.watch(tenant, channel, (ev) => c.send(prefix + JSON.stringify(ev))));
        }
        return c.send(`OK:${target}`);
      }
      case 'UNWATCH':
        this.#watching.get(key)?.();
        this.#watching.delete(key);
        return c.send(`OK:${target}`);
      case 'GET': {
        const limit = args.limit === undefined ? 100 : args.limit;
        const after = args.after;
        if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > PAGE_MAX) return refuse(ErrorCode.BadCommand);
        if (after !== undefined && typeof after !== 'string') return refuse(ErrorCode.BadCommand);
        const page = c.presence.page(tenant, channel, after, limit as number);
        return c.send(`PRESENCE:STATE:${tenant}:${channel} ${JSON.stringify({ count: page.count, members: page.members, next: page.next ?? null })}`);
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
