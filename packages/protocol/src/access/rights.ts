// Token rights beyond grants and restrictions (contract §11.7): which edge protocols a token may
// use and its per-connection byte rates. Validated at mint time (400 naming the field), stored
// in the token as applied (an omitted rate gets the server default of that moment, so a later
// change of the default leaves live tokens alone), and enforced by the edges.
import { ErrorCode, FpsError } from '@fastpubsub/core';

/** Edge protocols a token may name: the contract's two, and this relay's native QUIC edge. */
export const EDGE_PROTOCOLS = ['websocket', 'webtransport', 'quic'] as const;
export type EdgeProtocol = (typeof EDGE_PROTOCOLS)[number];

/** The documented range of `ingress_kb_per_sec` / `egress_kb_per_sec` (1 KB = 1024 bytes). */
export const MIN_KB_PER_SEC = 8;
export const MAX_KB_PER_SEC = 16384;
/**
 * The shipped default for an omitted rate: the documented maximum, effectively unthrottled for
 * existing clients. The SDK's docs say 8; applied to every token without the fields, that would
 * throttle all clients minted by older SDKs (a 64 KiB message would take 8 s).
 */
export const DEFAULT_KB_PER_SEC = MAX_KB_PER_SEC;

export interface RateDefaults {
  /** KB/s written into tokens that omit the field; 0 = unlimited. */
  ingressKbPerSec: number;
  egressKbPerSec: number;
}

export const SHIPPED_RATE_DEFAULTS: Readonly<RateDefaults> = Object.freeze({
  ingressKbPerSec: DEFAULT_KB_PER_SEC,
  egressKbPerSec: DEFAULT_KB_PER_SEC,
});

/** The rights fields as stored in a token's `right` (wire names). */
export interface TokenRightsFields {
  /** Lower-cased; absent when the request omitted it or sent `[]` (both protocols). */
  allow_protocols?: string[];
  ingress_kb_per_sec?: number;
  egress_kb_per_sec?: number;
}

export interface ParsedRights {
  fields: TokenRightsFields & { ingress_kb_per_sec: number; egress_kb_per_sec: number };
  /** The rate fields the request omitted and the server default filled in. */
  defaulted: Array<'ingress_kb_per_sec' | 'egress_kb_per_sec'>;
}

const bad = (message: string): FpsError => new FpsError(ErrorCode.BadRequest, message);

function parseProtocols(v: unknown): string[] | undefined {
  const field = 'right.allow_protocols';
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw bad(`${field} must be an array of protocol names (${EDGE_PROTOCOLS.join(', ')})`);
  if (v.length > EDGE_PROTOCOLS.length * 4) throw bad(`${field} has too many entries`);
  const out = new Set<string>();
  v.forEach((x: unknown, i) => {
    const name = typeof x === 'string' ? x.trim().toLowerCase() : undefined;
    if (name === undefined || !(EDGE_PROTOCOLS as readonly string[]).includes(name)) {
      throw bad(`${field}[${i}] is not a known protocol: ${JSON.stringify(x)} (known: ${EDGE_PROTOCOLS.join(', ')})`);
    }
    out.add(name);
  });
  return out.size === 0 ? undefined : [...out];
}

function parseRate(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_KB_PER_SEC || v > MAX_KB_PER_SEC) {
    throw bad(`right.${field} must be an integer from ${MIN_KB_PER_SEC} to ${MAX_KB_PER_SEC} (KB/s), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validates the three fields of a get-token `right` and applies the defaults to omitted rates. */
export function parseTokenRights(right: Record<string, unknown>, defaults: RateDefaults = SHIPPED_RATE_DEFAULTS): ParsedRights {
  const protocols = parseProtocols(right['allow_protocols']);
  const ingress = parseRate(right['ingress_kb_per_sec'], 'ingress_kb_per_sec');
  const egress = parseRate(right['egress_kb_per_sec'], 'egress_kb_per_sec');
  const defaulted: ParsedRights['defaulted'] = [];
  if (ingress === undefined) defaulted.push('ingress_kb_per_sec');
  if (egress === undefined) defaulted.push('egress_kb_per_sec');
  const fields: ParsedRights['fields'] = {
    ingress_kb_per_sec: ingress ?? defaults.ingressKbPerSec,
    egress_kb_per_sec: egress ?? defaults.egressKbPerSec,
  };
  if (protocols !== undefined) fields.allow_protocols = protocols;
  return { fields, defaulted };
}

/** KB/s → bytes/s; 0 (a server default of "unlimited", never a client's value) → Infinity. */
function bytesPerSec(kb: number): number {
  return kb === 0 ? Infinity : kb * 1024;
}

/** A token's rights as an edge applies them; a token minted before these fields existed gets `defaults`. */
export class CompiledRights {
  readonly #protocols: ReadonlySet<string> | undefined;
  readonly ingressBytesPerSec: number;
  readonly egressBytesPerSec: number;

  constructor(right: TokenRightsFields, defaults: RateDefaults = SHIPPED_RATE_DEFAULTS) {
    const p = right.allow_protocols;
    this.#protocols = p === undefined || p.length === 0 ? undefined : new Set(p.map((x) => x.toLowerCase()));
    this.ingressBytesPerSec = bytesPerSec(right.ingress_kb_per_sec ?? defaults.ingressKbPerSec);
    this.egressBytesPerSec = bytesPerSec(right.egress_kb_per_sec ?? defaults.egressKbPerSec);
  }

  allowsProtocol(protocol: EdgeProtocol): boolean {
    return this.#protocols === undefined || this.#protocols.has(protocol);
  }
}

/** Shape check of the optional fields in a signed ticket's claims (trusted for content, not shape). */
export function isTokenRightsShape(r: Record<string, unknown>): boolean {
  const p = r['allow_protocols'];
  if (p !== undefined && !(Array.isArray(p) && p.every((x) => typeof x === 'string'))) return false;
  for (const f of ['ingress_kb_per_sec', 'egress_kb_per_sec']) {
    const v = r[f];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) return false;
  }
  return true;
}
