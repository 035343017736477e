// Worst-case matching cost under the relay's subscription limits: one tenant holding the
// most distinct patterns it may (maxWildcardPatternsPerTenant), each of the most tokens and wildcards
// allowed, all matching the published channels, with the match cache defeated (every publish
// a channel not seen before). Reports the cost of one publish's match in microseconds, and
// the same measure for the unbounded attack the limits now refuse (128-token patterns).
import { performance } from 'node:perf_hooks';
import { RELAY_DEFAULTS } from '@fastpubsub/core';
import { SubscriptionIndex, patternComplexityRefusal } from '@fastpubsub/relay';

export interface MatchingLimits {
  maxWildcardPatternsPerTenant: number;
  maxPatternTokens: number;
  maxPatternWildcards: number;
  maxSubscriptionsPerConnection: number;
}

export interface MatchingResult {
  patterns: number;
  tokensPerPattern: number;
  /** Matching patterns per publish (all of them, by construction). */
  matchedPerPublish: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
}

/**
 * Distinct patterns of `tokens` tokens with at most `wildcards` wildcard tokens, every one of
 * which matches every channel `a.a.….a.aN` (N any suffix): the last position is always a
 * wildcard (`*` or `a*`), so varying it defeats any per-channel cache while every pattern still
 * matches; the other positions choose between `a`, `*` and `a*`, by increasing wildcard count.
 */
export function adversarialPatterns(count: number, tokens: number, wildcards: number): string[] {
  const out: string[] = [];
  const head = tokens - 1;
  const choose = (start: number, left: number, acc: Map<number, string>): void => {
    for (const last of ['*', 'a*']) {
      if (out.length >= count) return;
      const t: string[] = [];
      for (let i = 0; i < head; i++) t.push(acc.get(i) ?? 'a');
      t.push(last);
      out.push(t.join('.'));
    }
    if (left === 0) return;
    for (let i = start; i < head && out.length < count; i++) {
      for (const w of ['*', 'a*']) {
        acc.set(i, w);
        choose(i + 1, left - 1, acc);
        acc.delete(i);
      }
    }
  };
  choose(0, wildcards - 1, new Map());
  return out.slice(0, count);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** Times `publishes` matches against `patterns` held by as many sinks as the per-connection cap needs. */
export function measureMatching(patterns: string[], perSink: number, publishes: number, tokens: number): MatchingResult {
  const index = new SubscriptionIndex<object>({ cacheSize: 0 });
  let sink = {};
  patterns.forEach((p, i) => {
    if (i > 0 && i % perSink === 0) sink = {};
    index.add('t', p, sink);
  });
  const times: number[] = [];
  let matched = 0;
  const deadline = performance.now() + 10_000;
  for (let i = 0; i < publishes && performance.now() < deadline; i++) {
    // A fresh channel every time (last token `a0`, `a1`, …): no cache could help.
    const channel = `${'a.'.repeat(tokens - 1)}a${i}`;
    const t0 = performance.now();
    const m = index.match('t', channel);
    times.push((performance.now() - t0) * 1000);
    matched = 0;
    for (const list of m.values()) matched += list.length;
  }
  times.sort((a, b) => a - b);
  return {
    patterns: patterns.length,
    tokensPerPattern: tokens,
    matchedPerPublish: matched,
    p50Us: percentile(times, 0.5),
    p90Us: percentile(times, 0.9),
    meanUs: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    p99Us: percentile(times, 0.99),
    maxUs: times[times.length - 1] ?? 0,
  };
}

/** The worst case the limits allow, every pattern checked against them as the relay would. */
export function worstCaseUnderLimits(l: MatchingLimits, publishes = 500): MatchingResult {
  const patterns = adversarialPatterns(l.maxWildcardPatternsPerTenant, l.maxPatternTokens, l.maxPatternWildcards);
  for (const p of patterns) {
    if (patternComplexityRefusal(p, { ...l, maxConnectionsPerTenant: 1, maxSubscriptionsPerTenant: 1 }) !== undefined) throw new Error(`pattern over the limits: ${p}`);
  }
  return measureMatching(patterns, l.maxSubscriptionsPerConnection, publishes, l.maxPatternTokens);
}

export function defaultMatchingLimits(): MatchingLimits {
  const d = RELAY_DEFAULTS.limits;
  return {
    maxWildcardPatternsPerTenant: d.maxWildcardPatternsPerTenant,
    maxPatternTokens: d.maxPatternTokens,
    maxPatternWildcards: d.maxPatternWildcards,
    maxSubscriptionsPerConnection: d.maxSubscriptionsPerConnection,
  };
}

if (process.argv[1]?.endsWith('matching.ts') === true) {
  const limits = defaultMatchingLimits();
  const bounded = worstCaseUnderLimits(limits);
  console.log(`bounded (defaults ${JSON.stringify(limits)}):`, bounded);
  // The unbounded shape the limits refuse: 1000 patterns of 128 tokens (`a`/`*`).
  const unbounded = measureMatching(adversarialPatterns(1000, 128, 128), 1000, 20, 128);
  console.log('unbounded (1000 patterns x 128 tokens, refused by the limits):', unbounded);
}
