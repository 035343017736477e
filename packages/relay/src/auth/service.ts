// Token lifecycle (contract §7) and the handshake check (§2). Records are cached in memory so
// verify costs a map lookup and one hash; the store is the source of truth loaded by start().

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, FpsError, type Logger } from '@fastpubsub/core';
import { CompiledGrants } from '@fastpubsub/protocol';
import {
  parseGetTokenRequest,
  parseRefreshTokenRequest,
  parseRevokeTokenRequest,
  type ExpiryOptions,
} from '@fastpubsub/protocol';
import { CompiledRestrictions, CompiledRights, SHIPPED_RATE_DEFAULTS, type RateDefaults } from '@fastpubsub/protocol';
import type { TokenStore } from './store.js';
import { Ticket } from './ticket.js';
import { formatAccessToken, hashSecret, parseAccessToken } from '@fastpubsub/protocol';
import type { TokenRecord } from '@fastpubsub/protocol';

export interface TokenServiceOptions {
  store: TokenStore;
  now: () => number;
  /** n random bytes; default node:crypto randomBytes. Injected for deterministic tests. */
  random?: (n: number) => Uint8Array;
  expiry?: ExpiryOptions;
  /** Rates for tokens that omit them (contract §11.7); default 16384 KB/s each way. */
  rateDefaults?: RateDefaults;
  /** Tokens minted without rate limits are logged here (info). */
  logger?: Logger;
}

export interface VerifyContext {
  /** Client IP as the socket reports it (IPv4-mapped IPv6 is handled). */
  ip: string;
  /** The Origin header, only if the request carried one. */
  origin?: string | undefined;
  /** This edge's region, e.g. `EU`. */
  region: string;
}

interface Entry {
  readonly record: TokenRecord;
  readonly hash: Buffer;
  readonly grants: CompiledGrants;
  readonly restrictions: CompiledRestrictions;
  readonly rights: CompiledRights;
}

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export class TokenService {
  readonly #store: TokenStore;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #expiry: ExpiryOptions;
  readonly #rateDefaults: RateDefaults;
  readonly #logger: Logger | undefined;
  readonly #cache = new Map<string, Entry>();
  readonly #revokedListeners = new Set<(tokenId: string) => void>();
  /** Serializes read-modify-write so a refresh racing a revoke cannot resurrect the token. */
  #mutations: Promise<unknown> = Promise.resolve();

  constructor(opts: TokenServiceOptions) {
    this.#store = opts.store;
    this.#now = opts.now;
    this.#random = opts.random ?? ((n) => randomBytes(n));
    this.#expiry = opts.expiry ?? {};
    this.#rateDefaults = opts.rateDefaults ?? SHIPPED_RATE_DEFAULTS;
    this.#logger = opts.logger;
  }

  /** Loads every stored record into the cache. Optional: verify falls back to the store on a miss. */
  async start(): Promise<void> {
    const listed = this.#store.list?.();
    if (listed === undefined) return;
    if (Symbol.asyncIterator in listed) {
      for await (const r of listed) this.#remember(r);
    } else {
      for (const r of await listed) this.#remember(r);
    }
  }

  async issue(body: unknown): Promise<{ token: string; record: TokenRecord }> {
    const now = this.#now();
    const req = parseGetTokenRequest(body, now, { ...this.#expiry, rateDefaults: this.#rateDefaults });
    const id = toHex(this.#random(16));
    const secret = toHex(this.#random(16));
    const record: TokenRecord = {
      id,
      secretHash: hashSecret(secret),
      right: req.right,
      expiresAtMs: req.expiresAtMs,
      createdBy: req.createdBy,
      createdAtMs: now,
      revoked: false,
    };
    if (req.description !== undefined) record.description = req.description;
    await this.#mutate(async () => {
      if ((await this.#lookup(id)) !== undefined) {
        throw new FpsError(ErrorCode.Internal, 'token id collision; the random source is broken');
      }
      await this.#store.put(record);
      this.#remember(record);
    });
    if (req.defaultedRates.length > 0) {
      this.#logger?.info('token minted without rate limits; the server default was applied', {
        tokenId: id,
        defaulted: req.defaultedRates,
        ingressKbPerSec: req.right.ingress_kb_per_sec,
        egressKbPerSec: req.right.egress_kb_per_sec,
      });
    }
    return { token: formatAccessToken(id, secret), record: structuredClone(record) };
  }

  async refresh(body: unknown): Promise<{ message: string; new_expires_at: string }> {
    const req = parseRefreshTokenRequest(body, this.#now(), this.#expiry);
    return this.#mutate(async () => {
      const entry = await this.#lookup(req.tokenId);
      if (entry === undefined) throw new FpsError(ErrorCode.NotFound, 'unknown token_id');
      const r = entry.record;
      if (r.revoked) throw new FpsError(ErrorCode.BadRequest, 'token is revoked and cannot be refreshed');
      if (this.#now() >= r.expiresAtMs) throw new FpsError(ErrorCode.BadRequest, 'token has expired and cannot be refreshed');
      const newExpiresAt = new Date(req.expiresAtMs).toISOString();
      const next: TokenRecord = { ...r, expiresAtMs: req.expiresAtMs, right: { ...r.right, expires_at: newExpiresAt } };
      await this.#store.put(next);
      this.#remember(next);
      return { message: 'token refreshed', new_expires_at: newExpiresAt };
    });
  }

  /** Idempotent. An unknown token, or a known id with the wrong secret, is NotFound. */
  async revoke(body: unknown): Promise<{ message: string }> {
    const req = parseRevokeTokenRequest(body);
    const revoked = await this.#mutate(async () => {
      const entry = await this.#lookup(req.id);
      if (entry === undefined || !secretMatches(entry, req.secret)) {
        throw new FpsError(ErrorCode.NotFound, 'unknown token');
      }
      if (entry.record.revoked) return false;
      const next: TokenRecord = { ...entry.record, revoked: true, revokedAtMs: this.#now() };
      await this.#store.put(next);
      this.#remember(next);
      return true;
    });
    if (!revoked) return { message: 'token already revoked' };
    for (const listener of this.#revokedListeners) {
      try {
        listener(req.id);
      } catch {
        // One edge's failing listener must not stop the others from closing their connections.
      }
    }
    return { message: 'token revoked' };
  }

  /**
   * The handshake check. Unauthorized for absent, malformed, unknown or wrong-secret tokens
   * (indistinguishable on purpose), then TokenRevoked, TokenExpired, and Forbidden for a
   * failed IP / region / Origin restriction.
   */
  async verify(token: string | undefined, ctx: VerifyContext): Promise<Ticket> {
    if (token === undefined || token === '') throw new FpsError(ErrorCode.Unauthorized, 'access token required');
    const parsed = parseAccessToken(token);
    if (parsed === undefined) throw new FpsError(ErrorCode.Unauthorized, 'malformed access token');
    const entry = await this.#lookup(parsed.id);
    if (entry === undefined || !secretMatches(entry, parsed.secret)) {
      throw new FpsError(ErrorCode.Unauthorized, 'invalid access token');
    }
    const r = entry.record;
    if (r.revoked) throw new FpsError(ErrorCode.TokenRevoked, 'access token revoked');
    if (this.#now() >= r.expiresAtMs) throw new FpsError(ErrorCode.TokenExpired, 'access token expired');
    const failed = entry.restrictions.check(ctx);
    if (failed !== undefined) {
      throw new FpsError(ErrorCode.Forbidden, `access token not allowed from this ${failed}`, { detail: failed });
    }
    return new Ticket(r, entry.grants, entry.rights);
  }

  /** Called with the token id after each successful revoke; returns an unsubscribe function. */
  onRevoked(listener: (tokenId: string) => void): () => void {
    this.#revokedListeners.add(listener);
    return () => {
      this.#revokedListeners.delete(listener);
    };
  }

  /** A copy of the record, for the REST layer and the CLI. */
  async get(id: string): Promise<TokenRecord | undefined> {
    const e = await this.#lookup(id);
    return e === undefined ? undefined : structuredClone(e.record);
  }

  async #lookup(id: string): Promise<Entry | undefined> {
    const hit = this.#cache.get(id);
    if (hit !== undefined) return hit;
    // A miss may be a token issued through another node sharing the store (etcd later).
    const r = await this.#store.get(id);
    return r === undefined ? undefined : this.#remember(r);
  }

  #remember(record: TokenRecord): Entry {
    const entry: Entry = {
      record,
      hash: Buffer.from(record.secretHash, 'hex'),
      grants: new CompiledGrants(record.right),
      restrictions: new CompiledRestrictions(record.right),
      rights: new CompiledRights(record.right, this.#rateDefaults),
    };
    this.#cache.set(record.id, entry);
    return entry;
  }

  #mutate<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#mutations.then(fn);
    this.#mutations = run.catch(() => undefined);
    return run;
  }
}

function secretMatches(entry: Entry, secret: string): boolean {
  const got = Buffer.from(hashSecret(secret), 'hex');
  return got.length === entry.hash.length && timingSafeEqual(got, entry.hash);
}
