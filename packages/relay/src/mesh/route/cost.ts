// Link cost: what one hop costs a message, in milliseconds of expected one-way delay. The
// formula and the reasons for it are in docs/routing.md ("Link cost"); keep the two in sync.

/** Smoothed measurements of one link, as produced by LinkHealth (or the caller's own probes). */
export interface LinkMetrics {
  /** Smoothed round-trip time, ms. */
  readonly rttMs: number;
  /** Smoothed mean deviation of the RTT (RFC 6298 RTTVAR), ms. */
  readonly jitterMs: number;
  /** Smoothed probe loss ratio in [0, 1]. */
  readonly loss: number;
}

/** Loss above this is clamped: the link is then priced as "barely usable", not infinite. */
export const MAX_PRICED_LOSS = 0.9;

/** Floor so that a zero-RTT (loopback) link still has a positive, comparable cost. */
export const MIN_LINK_COST_MS = 0.01;

/**
 * Expected one-way delay over the link:
 *
 *   cost = rtt/2 + jitter/2 + p/(1−p) · (rtt + 4·jitter)
 *
 * rtt/2 is the one-way latency; jitter/2 prices the one-way share of the delay spread (a
 * stable link beats a jittery one with the same mean); a lost packet is recovered one
 * retransmission timeout later (RTO ≈ rtt + 4·rttvar, RFC 6298), and losses repeat
 * geometrically, so the expected penalty per packet is p/(1−p) RTOs.
 */
export function linkCostMs(m: LinkMetrics): number {
  const rtt = Math.max(0, finiteOr(m.rttMs, 0));
  const jitter = Math.max(0, finiteOr(m.jitterMs, 0));
  const p = Math.min(MAX_PRICED_LOSS, Math.max(0, finiteOr(m.loss, 0)));
  const cost = rtt / 2 + jitter / 2 + (p / (1 - p)) * (rtt + 4 * jitter);
  return Math.max(MIN_LINK_COST_MS, cost);
}

function finiteOr(x: number, fallback: number): number {
  return Number.isFinite(x) ? x : fallback;
}
