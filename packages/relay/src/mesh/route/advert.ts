// Route adverts: what one router tells a neighbour. The in-memory shape is what Router consumes
// and produces; encodeAdvert/decodeAdvert give the link layer a byte form (JSON, because an
// advert is control traffic sent about once a second, and readable dumps are worth more than
// the bytes) with strict validation, since adverts arrive from the network.

import { ErrorCode, FpsError } from '@fastpubsub/core';

export interface AdvertEntry {
  readonly dest: string;
  /** DSDV sequence number: even = originated by `dest` (alive), odd = someone saw it broken. */
  readonly seq: number;
  /** Sender's path cost to `dest` in ms; Infinity = unreachable (withdrawn or poisoned). */
  readonly cost: number;
  /** Sender's path: [sender, …, dest]; empty when unreachable. */
  readonly path: readonly string[];
}

export interface RouteAdvert {
  readonly from: string;
  /** Full snapshot (destinations not listed are withdrawn) or a delta of changed entries. */
  readonly full: boolean;
  readonly entries: readonly AdvertEntry[];
}

/** One advert to hand to the link towards `to`. */
export interface OutgoingAdvert {
  readonly to: string;
  readonly advert: RouteAdvert;
}

/** Wire form: `[dest, seq, costCentiMs | -1, ...path]` per entry keeps the bytes small. */
type WireEntry = [string, number, number, ...string[]];
interface WireAdvert {
  v: 1;
  f: string;
  full: 0 | 1;
  e: WireEntry[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeAdvert(advert: RouteAdvert): Uint8Array {
  const wire: WireAdvert = {
    v: 1,
    f: advert.from,
    full: advert.full ? 1 : 0,
    e: advert.entries.map((e): WireEntry => [
      e.dest,
      e.seq,
      Number.isFinite(e.cost) ? Math.round(e.cost * 100) : -1,
      ...e.path,
    ]),
  };
  return encoder.encode(JSON.stringify(wire));
}

export function decodeAdvert(bytes: Uint8Array): RouteAdvert {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw bad('advert is not UTF-8 JSON', cause);
  }
  if (typeof raw !== 'object' || raw === null) throw bad('advert is not an object');
  const w = raw as Record<string, unknown>;
  if (w['v'] !== 1) throw bad('unknown advert version');
  const from = w['f'];
  if (typeof from !== 'string' || from === '') throw bad('advert sender missing');
  if (w['full'] !== 0 && w['full'] !== 1) throw bad('advert kind missing');
  const list = w['e'];
  if (!Array.isArray(list)) throw bad('advert entries missing');
  const entries: AdvertEntry[] = list.map((item: unknown) => {
    if (!Array.isArray(item) || item.length < 3) throw bad('advert entry malformed');
    const [dest, seq, centi, ...path] = item as unknown[];
    if (typeof dest !== 'string' || dest === '') throw bad('advert entry without destination');
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw bad('bad sequence number');
    if (typeof centi !== 'number' || !Number.isFinite(centi) || (centi < 0 && centi !== -1)) throw bad('bad cost');
    if (!path.every((p): p is string => typeof p === 'string' && p !== '')) throw bad('bad path');
    return { dest, seq, cost: centi === -1 ? Infinity : centi / 100, path };
  });
  return { from, full: w['full'] === 1, entries };
}

function bad(message: string, cause?: unknown): FpsError {
  return new FpsError(ErrorCode.BadFrame, message, cause === undefined ? undefined : { cause });
}
