// Local verification of signed access tickets at a PoP: no round trip. The state (public keys,
// revocations, refreshed expiries) is pushed by the control plane and applied here as events;
// checks take the clock as a parameter, so this module does no I/O and tests drive it directly.
import type { KeyObject } from 'node:crypto';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import type { AdmissionContext, EdgeTicket, TicketVerifier } from '../edge-ticket.js';
import {
  CompiledGrants,
  CompiledRestrictions,
  CompiledRights,
  isTokenRightsShape,
  isValidRule,
  isValidTenant,
  parseAccessToken,
  type EdgeProtocol,
} from '@fastpubsub/protocol';
import { decodeCompactJws, importPublicJwk, verifySignature } from './jws.js';
import { emptyPopState, type HookDef, type PopState, type PublicJwk, type TenantLimits, type TicketClaims, type WatchEvent } from '@fastpubsub/protocol';

interface Verified {
  readonly kid: string;
  readonly claims: TicketClaims;
  readonly grants: CompiledGrants;
  readonly restrictions: CompiledRestrictions;
  readonly rights: CompiledRights;
  readonly tenants: readonly string[];
}

/** Verified signatures are memoized by token text; bounded, cleared when full. */
const CACHE_LIMIT = 4096;

export class SignedTicket implements EdgeTicket {
  readonly tokenId: string;
  readonly tenants: readonly string[];
  readonly #v: Verified;
  readonly #state: SignedTicketState;
  /** Called once when the connection holding this ticket ends (see EdgeTicket.release). */
  #release: (() => void) | undefined;

  constructor(v: Verified, state: SignedTicketState, release?: () => void) {
    this.tokenId = v.claims.jti;
    this.tenants = v.tenants;
    this.#v = v;
    this.#state = state;
    this.#release = release;
  }

  canPublish(tenant: string, channel: string): boolean {
    return this.#v.grants.canPublish(tenant, channel);
  }

  allowsProtocol(protocol: EdgeProtocol): boolean {
    return this.#v.rights.allowsProtocol(protocol);
  }

  get ingressBytesPerSec(): number {
    return this.#v.rights.ingressBytesPerSec;
  }

  get egressBytesPerSec(): number {
    return this.#v.rights.egressBytesPerSec;
  }

  canSubscribe(tenant: string, pattern: string): boolean {
    return this.#v.grants.canSubscribe(tenant, pattern);
  }

  /** Live: a refresh pushed after the handshake extends an open connection's ticket too. */
  isExpired(nowMs: number): boolean {
    return nowMs >= this.#state.expiresAtMs(this.tokenId, this.#v.claims.exp_ms);
  }

  release(): void {
    const r = this.#release;
    this.#release = undefined;
    r?.();
  }
}

/** Keys, revocations and expiry overrides as last pushed by the control plane. */
export class SignedTicketState {
  #rev = 0;
  readonly #keys = new Map<string, { jwk: PublicJwk; key: KeyObject }>();
  readonly #revoked = new Map<string, number>();
  readonly #expiry = new Map<string, number>();
  readonly #cache = new Map<string, Verified>();
  readonly #revokedListeners = new Set<(tokenId: string) => void>();
  /** Everything else in PopState (limits, quotas) is kept for whoever consumes it. */
  #rest: Pick<PopState, 'limits' | 'overQuota'> & { hooks: HookDef[] } = { limits: {}, overQuota: [], hooks: [] };
  readonly #changeListeners = new Set<(ev: WatchEvent) => void>();

  get rev(): number {
    return this.#rev;
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  isRevoked(id: string): boolean {
    return this.#revoked.has(id);
  }

  expiresAtMs(id: string, signedExpMs: number): number {
    return this.#expiry.get(id) ?? signedExpMs;
  }

  /** Applies one pushed event; a snapshot replaces everything (revocations are never un-done by it). */
  apply(ev: WatchEvent): void {
    switch (ev.type) {
      case 'snapshot':
        this.#load(ev.state);
        break;
      case 'revoked':
        this.#rev = Math.max(this.#rev, ev.rev);
        if (!this.#revoked.has(ev.id)) {
          this.#revoked.set(ev.id, ev.exp_ms);
          this.#notifyRevoked(ev.id);
        }
        break;
      case 'expiry':
        this.#rev = Math.max(this.#rev, ev.rev);
        this.#expiry.set(ev.id, ev.exp_ms);
        break;
      case 'keys':
        this.#rev = Math.max(this.#rev, ev.rev);
        this.#setKeys(ev.keys);
        break;
      case 'limits':
        this.#rev = Math.max(this.#rev, ev.rev);
        if (ev.limits === null) delete this.#rest.limits[ev.tenant];
        else this.#rest.limits[ev.tenant] = ev.limits;
        break;
      case 'quota':
        this.#rev = Math.max(this.#rev, ev.rev);
        this.#rest.overQuota = [...ev.overQuota];
        break;
      case 'hooks':
        this.#rev = Math.max(this.#rev, ev.rev);
        this.#rest.hooks = [...ev.hooks];
        break;
      case 'ping':
        return;
      default: {
        const never: never = ev;
        throw new Error(`unknown watch event ${JSON.stringify(never)}`);
      }
    }
    for (const l of this.#changeListeners) l(ev);
  }

  /** The whole state, for the PoP's disk cache. */
  toState(): PopState {
    return {
      rev: this.#rev,
      keys: [...this.#keys.values()].map((k) => k.jwk),
      revoked: [...this.#revoked].map(([id, exp_ms]) => ({ id, exp_ms })),
      expiry: [...this.#expiry].map(([id, exp_ms]) => ({ id, exp_ms })),
      limits: structuredClone(this.#rest.limits),
      overQuota: [...this.#rest.overQuota],
      hooks: structuredClone(this.#rest.hooks),
    };
  }

  /** The webhooks of every tenant (webhooks/ keeps the working copy). */
  get hooks(): readonly HookDef[] {
    return this.#rest.hooks;
  }

  get limits(): Readonly<Record<string, TenantLimits>> {
    return this.#rest.limits;
  }

  get overQuota(): readonly string[] {
    return this.#rest.overQuota;
  }

  /** Drops revocation and expiry entries whose token has expired anyway. */
  prune(nowMs: number): void {
    for (const [id, exp] of this.#revoked) if (exp < nowMs) this.#revoked.delete(id);
    for (const [id, exp] of this.#expiry) if (exp < nowMs) this.#expiry.delete(id);
  }

  onChange(listener: (ev: WatchEvent) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  onRevoked(listener: (tokenId: string) => void): () => void {
    this.#revokedListeners.add(listener);
    return () => {
      this.#revokedListeners.delete(listener);
    };
  }

  /**
   * The handshake check, synchronous: Unauthorized for anything malformed, an unknown key or a
   * bad signature (indistinguishable on purpose), then TokenRevoked, TokenExpired, Forbidden.
   */
  check(token: string | undefined, ctx: AdmissionContext, nowMs: number, release?: () => void): SignedTicket {
    if (token === undefined || token === '') throw new FpsError(ErrorCode.Unauthorized, 'access token required');
    const v = this.#verified(token);
    const id = v.claims.jti;
    if (this.#revoked.has(id)) throw new FpsError(ErrorCode.TokenRevoked, 'access token revoked');
    if (nowMs >= this.expiresAtMs(id, v.claims.exp_ms)) throw new FpsError(ErrorCode.TokenExpired, 'access token expired');
    const failed = v.restrictions.check(ctx);
    if (failed !== undefined) {
      throw new FpsError(ErrorCode.Forbidden, `access token not allowed from this ${failed}`, { detail: failed });
    }
    return new SignedTicket(v, this, release);
  }

  /** Signature and claims only (no revocation or expiry): what `check` builds on. */
  claimsOf(token: string): TicketClaims {
    return this.#verified(token).claims;
  }

  #verified(token: string): Verified {
    const hit = this.#cache.get(token);
    if (hit !== undefined && this.#keys.has(hit.kid)) return hit; // a key withdrawn since: check again
    const parsed = parseAccessToken(token);
    if (parsed === undefined) throw new FpsError(ErrorCode.Unauthorized, 'malformed access token');
    const jws = decodeCompactJws(parsed.secret);
    if (jws === undefined) throw new FpsError(ErrorCode.Unauthorized, 'malformed access token');
    const key = this.#keys.get(jws.kid);
    if (key === undefined || !verifySignature(jws, key.key)) throw new FpsError(ErrorCode.Unauthorized, 'invalid access token');
    const claims = asClaims(jws.payload);
    if (claims === undefined || claims.jti !== parsed.id) throw new FpsError(ErrorCode.Unauthorized, 'invalid access token');
    const v: Verified = {
      kid: jws.kid,
      claims,
      grants: new CompiledGrants(claims.right),
      restrictions: new CompiledRestrictions(claims.right),
      rights: new CompiledRights(claims.right),
      tenants: [...new Set(claims.right.tenant_grants.flatMap((g) => g.tenant_ids))],
    };
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(token, v);
    return v;
  }

  #load(s: PopState): void {
    this.#rev = s.rev;
    this.#setKeys(s.keys);
    for (const r of s.revoked) {
      if (!this.#revoked.has(r.id)) {
        this.#revoked.set(r.id, r.exp_ms);
        this.#notifyRevoked(r.id);
      }
    }
    this.#expiry.clear();
    for (const e of s.expiry) this.#expiry.set(e.id, e.exp_ms);
    this.#rest = { limits: structuredClone(s.limits), overQuota: [...s.overQuota], hooks: structuredClone(s.hooks ?? []) };
  }

  #setKeys(keys: readonly PublicJwk[]): void {
    const next = new Map<string, { jwk: PublicJwk; key: KeyObject }>();
    for (const jwk of keys) {
      const old = this.#keys.get(jwk.kid);
      try {
        next.set(jwk.kid, old !== undefined && old.jwk.x === jwk.x ? old : { jwk, key: importPublicJwk(jwk) });
      } catch {
        // A malformed key is skipped; tokens signed with it are refused.
      }
    }
    this.#keys.clear();
    for (const [k, v] of next) this.#keys.set(k, v);
  }

  #notifyRevoked(id: string): void {
    for (const l of this.#revokedListeners) {
      try {
        l(id);
      } catch {
        // one failing edge must not keep the others from closing their connections
      }
    }
  }
}

function strings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** Validates the payload's shape; a signed payload is trusted for content, not for shape. */
function asClaims(p: unknown): TicketClaims | undefined {
  if (typeof p !== 'object' || p === null) return undefined;
  const c = p as Partial<TicketClaims>;
  const r = c.right;
  if (typeof c.jti !== 'string' || typeof c.exp_ms !== 'number' || typeof r !== 'object' || r === null) return undefined;
  if (!Array.isArray(r.tenant_grants) || !strings(r.allow_ip_masks) || !strings(r.allow_regions) || !strings(r.allowed_ws_origin)) {
    return undefined;
  }
  if (!isTokenRightsShape(r as unknown as Record<string, unknown>)) return undefined;
  for (const g of r.tenant_grants as unknown[]) {
    const tg = g as { tenant_ids?: unknown; allow_channels_pub?: unknown; allow_channels_sub?: unknown };
    if (!strings(tg.tenant_ids) || !strings(tg.allow_channels_pub) || !strings(tg.allow_channels_sub)) return undefined;
    if (!tg.tenant_ids.every(isValidTenant) || ![...tg.allow_channels_pub, ...tg.allow_channels_sub].every(isValidRule)) return undefined;
  }
  return c as TicketClaims;
}

/** A TicketVerifier over a SignedTicketState, with the clock injected. */
export class SignedTicketVerifier implements TicketVerifier {
  readonly state: SignedTicketState;
  readonly #now: () => number;
  /** Runs before the signature check (e.g. per-IP attempt limits); may throw FpsError. */
  readonly #admit: ((token: string | undefined, ctx: AdmissionContext, nowMs: number) => (() => void) | undefined) | undefined;
  readonly #afterVerify: ((ticket: SignedTicket, nowMs: number) => (() => void) | undefined) | undefined;

  constructor(opts: {
    state?: SignedTicketState;
    now: () => number;
    /** Called before verification; throwing refuses the handshake. */
    admit?: (token: string | undefined, ctx: AdmissionContext, nowMs: number) => (() => void) | undefined;
    /** Called after a successful verification; may throw (e.g. tenant connection limit); returns the release hook. */
    afterVerify?: (ticket: SignedTicket, nowMs: number) => (() => void) | undefined;
  }) {
    this.state = opts.state ?? new SignedTicketState();
    this.#now = opts.now;
    this.#admit = opts.admit;
    this.#afterVerify = opts.afterVerify;
  }

  async verify(token: string | undefined, context: AdmissionContext): Promise<EdgeTicket> {
    const now = this.#now();
    this.#admit?.(token, context, now);
    const releaseBox: { fn?: () => void } = {};
    const ticket = this.state.check(token, context, now, () => releaseBox.fn?.());
    const release = this.#afterVerify?.(ticket, now);
    if (release !== undefined) releaseBox.fn = release;
    return ticket;
  }

  onRevoked(listener: (tokenId: string) => void): () => void {
    return this.state.onRevoked(listener);
  }
}

export { emptyPopState };
