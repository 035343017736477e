// Handshake restrictions of contract §7, each applied only when its list is non-empty.

import { BlockList, isIP } from 'node:net';
import type { TokenRight } from './types.js';

/** `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `v6/n`; undefined if malformed. */
export function parseIpMask(mask: string): { address: string; family: 'ipv4' | 'ipv6'; prefix: number } | undefined {
  const slash = mask.indexOf('/');
  const address = slash < 0 ? mask : mask.slice(0, slash);
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = mask.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined;
    prefix = Number(p);
  }
  return { address, family: v === 4 ? 'ipv4' : 'ipv6', prefix };
}

/** 8 groups of an IPv6 address (with or without embedded dotted IPv4), or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (isIP(maybeV4) === 4) {
    const o = maybeV4.split('.').map(Number) as [number, number, number, number];
    tail.push((o[0] << 8) | o[1], (o[2] << 8) | o[3]);
    text = text.slice(0, lastColon + 1) + '0';
  }
  const halves = text.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const head = parse(halves[0] ?? '');
  const rest = halves.length > 1 ? parse(halves[1] ?? '') : [];
  const groups = halves.length > 1 ? [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest] : head;
  if (tail.length > 0) groups.splice(groups.length - 1, 1, ...tail);
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The client address in the forms worth checking: itself, plus the IPv4 address inside an
 * IPv4-mapped IPv6 one (`::ffff:127.0.0.1`, as dual-stack sockets report IPv4 peers) or the
 * mapped IPv6 form of an IPv4 one, so an IPv4 mask matches either way.
 */
function addressForms(ip: string): Array<{ address: string; family: 'ipv4' | 'ipv6' }> {
  let a = ip.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const v = isIP(a);
  if (v === 4) return [{ address: a, family: 'ipv4' }, { address: `::ffff:${a}`, family: 'ipv6' }];
  if (v !== 6) return [];
  const out: Array<{ address: string; family: 'ipv4' | 'ipv6' }> = [{ address: a, family: 'ipv6' }];
  const g = ipv6Groups(a);
  if (g !== undefined && g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    const hi = g[6] as number;
    const lo = g[7] as number;
    out.push({ address: `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`, family: 'ipv4' });
  }
  return out;
}

/** Builds the matcher for a list of masks; throws RangeError on a malformed mask. */
export function compileIpMasks(masks: readonly string[]): BlockList {
  const list = new BlockList();
  for (const mask of masks) {
    const m = parseIpMask(mask.trim());
    if (m === undefined) throw new RangeError(`invalid IP mask: ${JSON.stringify(mask)}`);
    list.addSubnet(m.address, m.prefix, m.family);
  }
  return list;
}

export function ipAllowedBy(list: BlockList, ip: string): boolean {
  return addressForms(ip).some((f) => list.check(f.address, f.family));
}

/** Empty list: any IP. Otherwise the client IP must fall in one mask. */
export function ipAllowed(masks: readonly string[], ip: string): boolean {
  return masks.length === 0 || ipAllowedBy(compileIpMasks(masks), ip);
}

/** Empty list: any region. Otherwise an exact, case-insensitive match of the edge's region. */
export function regionAllowed(regions: readonly string[], region: string): boolean {
  if (regions.length === 0) return true;
  const r = region.trim().toUpperCase();
  return regions.some((x) => x.trim().toUpperCase() === r);
}

const normOrigin = (o: string): string => o.trim().toLowerCase().replace(/\/+$/, '');

/**
 * Only a present Origin is checked (contract §10.10): non-browser clients such as the Rust
 * SDK send none, and must not be locked out by an origin list meant for browsers.
 */
export function originAllowed(origins: readonly string[], origin: string | undefined): boolean {
  if (origins.length === 0 || origin === undefined) return true;
  const o = normOrigin(origin);
  return origins.some((x) => normOrigin(x) === o);
}

export type RestrictionFailure = 'ip' | 'region' | 'origin';

/** Compiled once per token record, checked once per handshake. */
export class CompiledRestrictions {
  readonly #ip: BlockList | undefined;
  readonly #right: Pick<TokenRight, 'allow_regions' | 'allowed_ws_origin'>;

  constructor(right: Pick<TokenRight, 'allow_ip_masks' | 'allow_regions' | 'allowed_ws_origin'>) {
    this.#ip = right.allow_ip_masks.length === 0 ? undefined : compileIpMasks(right.allow_ip_masks);
    this.#right = right;
  }

  check(ctx: { ip: string; origin?: string | undefined; region: string }): RestrictionFailure | undefined {
    if (this.#ip !== undefined && !ipAllowedBy(this.#ip, ctx.ip)) return 'ip';
    if (!regionAllowed(this.#right.allow_regions, ctx.region)) return 'region';
    if (!originAllowed(this.#right.allowed_ws_origin, ctx.origin)) return 'origin';
    return undefined;
  }
}
