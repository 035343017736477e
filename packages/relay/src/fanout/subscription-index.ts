// Subscription index: one token trie per tenant, walked per published channel (contract §5).
// A node is reached by exactly one path of edges and each edge consumes one channel token, so a
// walk visits each node at most once and each terminal (= one pattern string) at most once:
// the per-sink pattern lists come out duplicate-free without a dedup pass.

import { classifyToken } from './pattern.js';

interface Terminal<S> {
  /** Byte-identical to what add() received; echoed in delivery frames. */
  readonly pattern: string;
  readonly sinks: Set<S>;
}

class TrieNode<S> {
  exact: Map<string, TrieNode<S>> | undefined;
  star: TrieNode<S> | undefined;
  /** `p*` children keyed by `p`. */
  prefix: Map<string, TrieNode<S>> | undefined;
  /** Patterns ending exactly at this node. */
  end: Terminal<S> | undefined;
  hash: Terminal<S> | undefined;
  gt: Terminal<S> | undefined;
  /** `p#` / `p>` terminals keyed by `p`. */
  prefixHash: Map<string, Terminal<S>> | undefined;
  prefixGt: Map<string, Terminal<S>> | undefined;

  isEmpty(): boolean {
    return (
      this.exact === undefined && this.star === undefined && this.prefix === undefined &&
      this.end === undefined && this.hash === undefined && this.gt === undefined &&
      this.prefixHash === undefined && this.prefixGt === undefined
    );
  }
}

interface TenantState<S> {
  readonly root: TrieNode<S>;
  /** Bumped on every change; cached results carry the value they were computed at. */
  gen: number;
  /** Distinct patterns → number of sinks holding them. */
  readonly patterns: Map<string, number>;
}

interface CacheEntry<S> {
  readonly state: TenantState<S>;
  readonly gen: number;
  readonly result: ReadonlyMap<S, readonly string[]>;
}

type EdgeKind = 'exact' | 'star' | 'prefix';
interface Step<S> {
  readonly parent: TrieNode<S>;
  readonly kind: EdgeKind;
  readonly key: string;
}

export interface SubscriptionIndexOptions {
  /** Max cached (tenant, channel) results; 0 disables the cache. Default 4096. */
  cacheSize?: number;
}

export interface SinkSubscription {
  readonly tenant: string;
  readonly pattern: string;
}

const EMPTY: ReadonlyMap<never, readonly string[]> = new Map<never, readonly string[]>();

/**
 * Subscriptions keyed by (tenant, pattern, sink). `S` is opaque: the WebSocket edge uses one
 * sink per connection, the QUIC edge one per subscription stream. Results of match() are shared
 * with the cache: callers must not mutate them.
 */
export class SubscriptionIndex<S> {
  readonly #tenants = new Map<string, TenantState<S>>();
  /** Reverse index: sink → tenant → patterns, so removeSink is O(its subscriptions). */
  readonly #bySink = new Map<S, Map<string, Set<string>>>();
  readonly #cache = new Map<string, CacheEntry<S>>();
  readonly #cacheSize: number;
  #size = 0;
  #gen = 0;

  constructor(options: SubscriptionIndexOptions = {}) {
    this.#cacheSize = Math.max(0, Math.floor(options.cacheSize ?? 4096));
  }

  /** Total (tenant, pattern, sink) subscriptions. */
  get size(): number {
    return this.#size;
  }

  has(tenant: string, pattern: string, sink: S): boolean {
    return this.#bySink.get(sink)?.get(tenant)?.has(pattern) ?? false;
  }

  countFor(sink: S): number {
    let n = 0;
    for (const patterns of this.#bySink.get(sink)?.values() ?? []) n += patterns.size;
    return n;
  }

  patternsOf(sink: S): SinkSubscription[] {
    const out: SinkSubscription[] = [];
    for (const [tenant, patterns] of this.#bySink.get(sink) ?? []) {
      for (const pattern of patterns) out.push({ tenant, pattern });
    }
    return out;
  }

  tenantsWithInterest(): string[] {
    return [...this.#tenants.keys()];
  }

  /** Distinct patterns held in a tenant (for mesh interest gossip). */
  interestOf(tenant: string): string[] {
    return [...(this.#tenants.get(tenant)?.patterns.keys() ?? [])];
  }

  /** Returns false if that exact (tenant, pattern, sink) is already present. */
  add(tenant: string, pattern: string, sink: S): boolean {
    let perTenant = this.#bySink.get(sink);
    if (perTenant?.get(tenant)?.has(pattern) === true) return false;

    let state = this.#tenants.get(tenant);
    if (state === undefined) {
      state = { root: new TrieNode<S>(), gen: 0, patterns: new Map() };
      this.#tenants.set(tenant, state);
    }
    const tokens = pattern.split('.');
    let node = state.root;
    for (let i = 0; i < tokens.length - 1; i++) node = child(node, tokens[i] as string);
    const terminal = terminalFor(node, tokens[tokens.length - 1] as string, pattern);
    terminal.sinks.add(sink);

    if (perTenant === undefined) {
      perTenant = new Map();
      this.#bySink.set(sink, perTenant);
    }
    let patterns = perTenant.get(tenant);
    if (patterns === undefined) {
      patterns = new Set();
      perTenant.set(tenant, patterns);
    }
    patterns.add(pattern);
    state.patterns.set(pattern, (state.patterns.get(pattern) ?? 0) + 1);
    state.gen = ++this.#gen;
    this.#size++;
    return true;
  }

  /** Returns false if the subscription did not exist. */
  remove(tenant: string, pattern: string, sink: S): boolean {
    const perTenant = this.#bySink.get(sink);
    const patterns = perTenant?.get(tenant);
    if (perTenant === undefined || patterns === undefined || !patterns.delete(pattern)) return false;
    if (patterns.size === 0) perTenant.delete(tenant);
    if (perTenant.size === 0) this.#bySink.delete(sink);
    this.#removeFromTrie(tenant, pattern, sink);
    return true;
  }

  /** Removes every subscription of a sink (connection closed); returns how many. */
  removeSink(sink: S): number {
    const perTenant = this.#bySink.get(sink);
    if (perTenant === undefined) return 0;
    this.#bySink.delete(sink);
    let n = 0;
    for (const [tenant, patterns] of perTenant) {
      for (const pattern of patterns) {
        this.#removeFromTrie(tenant, pattern, sink);
        n++;
      }
    }
    return n;
  }

  /**
   * Every sink with at least one matching subscription in `tenant`, mapped to all of its
   * matching patterns (each once, as added). Read-only: the map may be a shared cached value.
   */
  match(tenant: string, channel: string): ReadonlyMap<S, readonly string[]> {
    const state = this.#tenants.get(tenant);
    if (state === undefined) return EMPTY;
    if (this.#cacheSize === 0) return walk(state.root, channel.split('.'));

    // Length-prefixed so no (tenant, channel) pair can collide with another.
    const key = `${tenant.length}:${tenant}${channel}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      this.#cache.delete(key);
      if (hit.state === state && hit.gen === state.gen) {
        this.#cache.set(key, hit); // re-insert = most recently used
        return hit.result;
      }
    }
    const result = walk(state.root, channel.split('.'));
    if (this.#cache.size >= this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(key, { state, gen: state.gen, result });
    return result;
  }

  #removeFromTrie(tenant: string, pattern: string, sink: S): void {
    const state = this.#tenants.get(tenant);
    if (state === undefined) return;
    const tokens = pattern.split('.');
    const path: Step<S>[] = [];
    let node: TrieNode<S> | undefined = state.root;
    for (let i = 0; i < tokens.length - 1 && node !== undefined; i++) {
      const tok = classifyToken(tokens[i] as string);
      const step: Step<S> =
        tok.kind === 'star'
          ? { parent: node, kind: 'star', key: '' }
          : tok.kind === 'prefix'
            ? { parent: node, kind: 'prefix', key: tok.prefix }
            : { parent: node, kind: 'exact', key: tokens[i] as string };
      path.push(step);
      node = stepChild(step);
    }
    if (node === undefined) return;
    if (!dropTerminal(node, tokens[tokens.length - 1] as string, sink, path)) return;

    // Prune empty nodes bottom-up so a churn of unique patterns does not leak trie nodes.
    for (let i = path.length - 1; i >= 0; i--) {
      const step = path[i] as Step<S>;
      const childNode = stepChild(step);
      if (childNode === undefined || !childNode.isEmpty()) break;
      unlinkChild(step);
    }
    const left = (state.patterns.get(pattern) ?? 1) - 1;
    if (left === 0) state.patterns.delete(pattern);
    else state.patterns.set(pattern, left);
    state.gen = ++this.#gen;
    this.#size--;
    if (state.root.isEmpty()) this.#tenants.delete(tenant);
  }
}

function child<S>(node: TrieNode<S>, token: string): TrieNode<S> {
  const tok = classifyToken(token);
  if (tok.kind === 'star') return (node.star ??= new TrieNode<S>());
  const [map, key] =
    tok.kind === 'prefix'
      ? [(node.prefix ??= new Map<string, TrieNode<S>>()), tok.prefix]
      : [(node.exact ??= new Map<string, TrieNode<S>>()), token];
  let next = map.get(key);
  if (next === undefined) {
    next = new TrieNode<S>();
    map.set(key, next);
  }
  return next;
}

function terminalFor<S>(node: TrieNode<S>, last: string, pattern: string): Terminal<S> {
  const tok = classifyToken(last);
  switch (tok.kind) {
    case 'hash':
      return (node.hash ??= { pattern, sinks: new Set() });
    case 'gt':
      return (node.gt ??= { pattern, sinks: new Set() });
    case 'prefixHash':
    case 'prefixGt': {
      const map = tok.kind === 'prefixHash' ? (node.prefixHash ??= new Map<string, Terminal<S>>()) : (node.prefixGt ??= new Map<string, Terminal<S>>());
      let t = map.get(tok.prefix);
      if (t === undefined) {
        t = { pattern, sinks: new Set() };
        map.set(tok.prefix, t);
      }
      return t;
    }
    default: {
      const leaf = child(node, last);
      return (leaf.end ??= { pattern, sinks: new Set() });
    }
  }
}

/** Removes `sink` from the terminal of `last` under `node`; false if it was not there. */
function dropTerminal<S>(node: TrieNode<S>, last: string, sink: S, path: Step<S>[]): boolean {
  const tok = classifyToken(last);
  switch (tok.kind) {
    case 'hash':
      if (node.hash?.sinks.delete(sink) !== true) return false;
      if (node.hash.sinks.size === 0) node.hash = undefined;
      return true;
    case 'gt':
      if (node.gt?.sinks.delete(sink) !== true) return false;
      if (node.gt.sinks.size === 0) node.gt = undefined;
      return true;
    case 'prefixHash':
    case 'prefixGt': {
      const field = tok.kind === 'prefixHash' ? 'prefixHash' : 'prefixGt';
      const map = node[field];
      const t = map?.get(tok.prefix);
      if (map === undefined || t === undefined || !t.sinks.delete(sink)) return false;
      if (t.sinks.size === 0) map.delete(tok.prefix);
      if (map.size === 0) node[field] = undefined;
      return true;
    }
    default: {
      const step: Step<S> =
        tok.kind === 'star'
          ? { parent: node, kind: 'star', key: '' }
          : tok.kind === 'prefix'
            ? { parent: node, kind: 'prefix', key: tok.prefix }
            : { parent: node, kind: 'exact', key: last };
      const leaf = stepChild(step);
      if (leaf?.end?.sinks.delete(sink) !== true) return false;
      if (leaf.end.sinks.size === 0) leaf.end = undefined;
      path.push(step);
      return true;
    }
  }
}

function stepChild<S>(step: Step<S>): TrieNode<S> | undefined {
  switch (step.kind) {
    case 'star':
      return step.parent.star;
    case 'prefix':
      return step.parent.prefix?.get(step.key);
    case 'exact':
      return step.parent.exact?.get(step.key);
  }
}

function unlinkChild<S>(step: Step<S>): void {
  const p = step.parent;
  if (step.kind === 'star') {
    p.star = undefined;
    return;
  }
  const field = step.kind === 'prefix' ? 'prefix' : 'exact';
  const map = p[field];
  map?.delete(step.key);
  if (map?.size === 0) p[field] = undefined;
}

function walk<S>(root: TrieNode<S>, tokens: readonly string[]): Map<S, string[]> {
  const out = new Map<S, string[]>();
  visit(root, tokens, 0, out);
  return out;
}

function visit<S>(node: TrieNode<S>, tokens: readonly string[], i: number, out: Map<S, string[]>): void {
  const rest = tokens.length - i;
  if (node.hash !== undefined) collect(node.hash, out);
  if (rest === 0) {
    if (node.end !== undefined) collect(node.end, out);
    return;
  }
  const tok = tokens[i] as string;
  if (node.gt !== undefined) collect(node.gt, out);
  if (node.prefixHash !== undefined) forPrefixes(node.prefixHash, tok, (t) => collect(t, out));
  if (rest >= 2 && node.prefixGt !== undefined) forPrefixes(node.prefixGt, tok, (t) => collect(t, out));

  const exact = node.exact?.get(tok);
  if (exact !== undefined) visit(exact, tokens, i + 1, out);
  if (node.star !== undefined) visit(node.star, tokens, i + 1, out);
  if (node.prefix !== undefined) forPrefixes(node.prefix, tok, (n) => visit(n, tokens, i + 1, out));
}

/** Calls `fn` for every entry whose key is a prefix of `token`, by the cheaper of two scans. */
function forPrefixes<V>(map: Map<string, V>, token: string, fn: (v: V) => void): void {
  if (map.size <= token.length) {
    for (const [prefix, v] of map) if (token.startsWith(prefix)) fn(v);
    return;
  }
  for (let len = 1; len <= token.length; len++) {
    const v = map.get(token.slice(0, len));
    if (v !== undefined) fn(v);
  }
}

function collect<S>(terminal: Terminal<S>, out: Map<S, string[]>): void {
  for (const sink of terminal.sinks) {
    const list = out.get(sink);
    if (list === undefined) out.set(sink, [terminal.pattern]);
    else list.push(terminal.pattern);
  }
}
