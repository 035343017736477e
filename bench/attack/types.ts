// One row of the attack suite's report: the attack, what the relay did, and how the healthy
// client fared meanwhile.
import type { HealthyReport } from './harness.js';

export interface AttackSizes {
  /** Reduced sizes (CI) shrink counts and the relay limits they are aimed at together. */
  small: boolean;
}

export interface RowResult {
  attack: string;
  relayDid: string;
  /** The relay defended itself as intended (the attack-specific check). */
  defended: boolean;
  healthy: HealthyReport;
}

/** The healthy client counts as served when nearly all its messages arrived and /ping answered. */
export function healthyServed(h: HealthyReport): boolean {
  return h.sent > 0 && h.delivered >= Math.floor(h.sent * 0.98) && h.pingFailures === 0;
}
