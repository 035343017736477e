// One bridge mapping between an external subject space (NATS subjects, Redis channels) and
// FastPubSub channels. Both sides are a literal prefix plus an optional wildcard tail:
// NATS `a.b.>` / Redis `a.b.*` (any rest) ↔ `x.y.#`; NATS `a.*` ↔ `x.*` (one token); or an
// exact name on both sides. A message keeps its tail and swaps the prefix.
import { isValidChannel } from '@fastpubsub/wire';
import type { BridgeMapping } from '@fastpubsub/core';

export type Tail = 'none' | 'one' | 'rest';

interface Side {
  prefix: string[];
  tail: Tail;
}

export type ExternalKind = 'nats' | 'redis';

function parseExternal(pattern: string, kind: ExternalKind): Side {
  const tokens = pattern.split('.');
  const last = tokens[tokens.length - 1];
  if (kind === 'nats' && last === '>') return { prefix: tokens.slice(0, -1), tail: 'rest' };
  if (kind === 'nats' && last === '*') return { prefix: tokens.slice(0, -1), tail: 'one' };
  if (kind === 'redis' && last === '*') return { prefix: tokens.slice(0, -1), tail: 'rest' };
  if (tokens.some((t) => t.includes('*') || t.includes('>') || t.includes('?') || t.includes('['))) {
    throw new Error(`external pattern '${pattern}': a wildcard may only be the whole last token`);
  }
  return { prefix: tokens, tail: 'none' };
}

function parseChannel(pattern: string): Side {
  const tokens = pattern.split('.');
  const last = tokens[tokens.length - 1];
  if (last === '#') return { prefix: tokens.slice(0, -1), tail: 'rest' };
  if (last === '*') return { prefix: tokens.slice(0, -1), tail: 'one' };
  if (!isValidChannel(pattern)) throw new Error(`channel pattern '${pattern}': only a literal prefix and a last '#' or '*' are supported`);
  return { prefix: tokens, tail: 'none' };
}

export class Mapping {
  readonly external: string;
  readonly channel: string;
  readonly inbound: boolean;
  readonly outbound: boolean;
  readonly #ext: Side;
  readonly #chan: Side;

  constructor(m: BridgeMapping, kind: ExternalKind) {
    this.external = m.external;
    this.channel = m.channel;
    this.inbound = m.direction !== 'out';
    this.outbound = m.direction !== 'in';
    this.#ext = parseExternal(m.external, kind);
    this.#chan = parseChannel(m.channel);
    if (this.#ext.tail !== this.#chan.tail) throw new Error(`mapping ${m.external} ↔ ${m.channel}: both sides need the same kind of wildcard`);
  }

  /** The channel for an external subject, or undefined if it does not map to a valid channel. */
  toChannel(subject: string): string | undefined {
    const rest = stripPrefix(subject.split('.'), this.#ext);
    if (rest === undefined) return undefined;
    const channel = [...this.#chan.prefix, ...rest].join('.');
    return isValidChannel(channel) ? channel : undefined;
  }

  /** The external subject for a channel, or undefined if the channel is outside this mapping. */
  toExternal(channel: string): string | undefined {
    const rest = stripPrefix(channel.split('.'), this.#chan);
    if (rest === undefined) return undefined;
    const out = [...this.#ext.prefix, ...rest];
    return out.length === 0 ? undefined : out.join('.');
  }
}

function stripPrefix(tokens: string[], side: Side): string[] | undefined {
  if (tokens.length < side.prefix.length) return undefined;
  for (let i = 0; i < side.prefix.length; i++) if (tokens[i] !== side.prefix[i]) return undefined;
  const rest = tokens.slice(side.prefix.length);
  if (side.tail === 'none' && rest.length !== 0) return undefined;
  if (side.tail === 'one' && rest.length !== 1) return undefined;
  if (side.tail === 'rest' && rest.length === 0) return undefined;
  return rest;
}
