// Probe bookkeeping for one link: turns probe send/reply events into smoothed RTT, jitter and
// loss (the inputs of linkCostMs) and decides when the link is dead or back up. Pure: the
// caller sends the probes and passes the clock; this only counts.

import type { LinkMetrics } from './cost.js';

export interface LinkHealthOptions {
  /** No probe reply for this long (while probing) declares the link dead. Default 800 ms. */
  readonly deadAfterMs?: number;
  /**
   * Consecutive replies needed before a new or dead link is declared up: a link must prove
   * itself (and give the jitter estimate a few samples) before it carries routes. Default 3.
   */
  readonly upAfterReplies?: number;
  /** A probe without reply after max(this, 2·srtt + 4·rttvar) counts as lost (1 s before the first RTT sample). Default 250 ms. */
  readonly lossTimeoutMs?: number;
  /** EWMA gain for RTT (RFC 6298 alpha). Default 1/8. */
  readonly rttGain?: number;
  /** EWMA gain for RTT variance (RFC 6298 beta). Default 1/4. */
  readonly jitterGain?: number;
  /** EWMA gain for loss, per probe outcome. Default 1/16 (≈ the last 16 probes). */
  readonly lossGain?: number;
  /** Outstanding probes remembered; older ones are counted lost. Default 64. */
  readonly maxOutstanding?: number;
}

export type LinkState = 'unknown' | 'up' | 'dead';

export class LinkHealth {
  private readonly deadAfterMs: number;
  private readonly upAfterReplies: number;
  private readonly lossTimeoutMs: number;
  private readonly rttGain: number;
  private readonly jitterGain: number;
  private readonly lossGain: number;
  private readonly maxOutstanding: number;
  /** probe id → send time; Map keeps insertion order, so the oldest is first. */
  private readonly outstanding = new Map<number, number>();
  private srtt: number | undefined;
  private rttvar = 0;
  private lossRatio = 0;
  private lastReplyAt: number | undefined;
  /** Last time the transport saw packets from the peer (see heardFrom). */
  private lastHeardAt: number | undefined;
  /** Send time of the newest answered probe: only losses after it break a reply streak. */
  private lastAnsweredSentAt = -Infinity;
  private streak = 0;
  private _state: LinkState = 'unknown';

  constructor(options: LinkHealthOptions = {}) {
    this.deadAfterMs = options.deadAfterMs ?? 800;
    this.upAfterReplies = options.upAfterReplies ?? 3;
    this.lossTimeoutMs = options.lossTimeoutMs ?? 250;
    this.rttGain = options.rttGain ?? 1 / 8;
    this.jitterGain = options.jitterGain ?? 1 / 4;
    this.lossGain = options.lossGain ?? 1 / 16;
    this.maxOutstanding = options.maxOutstanding ?? 64;
  }

  get state(): LinkState {
    return this._state;
  }

  /** Smoothed metrics, or undefined before the first reply. */
  metrics(): LinkMetrics | undefined {
    if (this.srtt === undefined) return undefined;
    return { rttMs: this.srtt, jitterMs: this.rttvar, loss: this.lossRatio };
  }

  probeSent(id: number, nowMs: number): void {
    this.outstanding.set(id, nowMs);
    while (this.outstanding.size > this.maxOutstanding) {
      const oldest = this.outstanding.keys().next().value as number;
      this.outstanding.delete(oldest);
      this.recordLoss(true);
    }
  }

  /**
   * A reply to probe `id`. Unknown or already-expired ids are ignored (late replies). The RTT
   * sample is `rttSampleMs` when the caller has a better one than reply time − send time (the
   * QUIC stack's own path RTT, timed off the JavaScript event loop), else that difference.
   */
  probeReply(id: number, nowMs: number, rttSampleMs?: number): void {
    const sentAt = this.outstanding.get(id);
    if (sentAt === undefined) return;
    this.outstanding.delete(id);
    const rtt = rttSampleMs !== undefined && Number.isFinite(rttSampleMs) && rttSampleMs > 0 ? rttSampleMs : Math.max(0, nowMs - sentAt);
    if (this.srtt === undefined) {
      // Not RFC 6298's rtt/2: that is an RTO safety margin, and as a cost it would make every
      // new link look 25 % slower and then "improve" on each probe, triggering route churn.
      this.srtt = rtt;
      this.rttvar = 0;
    } else {
      this.rttvar = (1 - this.jitterGain) * this.rttvar + this.jitterGain * Math.abs(this.srtt - rtt);
      this.srtt = (1 - this.rttGain) * this.srtt + this.rttGain * rtt;
    }
    this.recordLoss(false);
    this.lastReplyAt = nowMs;
    this.lastAnsweredSentAt = Math.max(this.lastAnsweredSentAt, sentAt);
    this.streak += 1;
    if (this._state !== 'up' && this.streak >= this.upAfterReplies) {
      this._state = 'up';
    }
  }

  /**
   * The transport received packets from the peer since the last call (counted in the native
   * stack, off the JavaScript event loop). A link that keeps delivering packets is not dead,
   * even if this process was too busy to see probe replies in time.
   */
  heardFrom(nowMs: number): void {
    this.lastHeardAt = nowMs;
  }

  /**
   * Expires unanswered probes (counted as loss) and applies the dead rule. Returns the state
   * after the update; the caller compares it with the previous one to call Router.linkUp/Down.
   */
  tick(nowMs: number): LinkState {
    // Before the first RTT sample nothing says how long a reply may take (RFC 6298's 1 s).
    const timeout = this.srtt === undefined ? Math.max(this.lossTimeoutMs, 1000) : Math.max(this.lossTimeoutMs, 2 * this.srtt + 4 * this.rttvar);
    for (const [id, sentAt] of this.outstanding) {
      if (nowMs - sentAt < timeout) break; // insertion order = send order
      this.outstanding.delete(id);
      this.recordLoss(true);
      if (sentAt > this.lastAnsweredSentAt) this.streak = 0;
    }
    // Only an up link can die (a new one just stays unknown until it answers), and only while
    // probing: a link we stopped probing is not evidence of anything. The gap between replies
    // is the probe interval whatever the RTT, so the rule needs no RTT term.
    const since = Math.max(this.lastReplyAt ?? -Infinity, this.lastHeardAt ?? -Infinity);
    if (this._state === 'up' && Number.isFinite(since) && nowMs >= since + this.deadAfterMs && this.outstanding.size > 0) {
      this._state = 'dead';
      this.streak = 0;
    }
    return this._state;
  }

  private recordLoss(lost: boolean): void {
    this.lossRatio = (1 - this.lossGain) * this.lossRatio + this.lossGain * (lost ? 1 : 0);
  }
}
