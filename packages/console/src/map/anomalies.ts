// Anomaly detection over the measurements the PoPs publish. Pure: time is a parameter.
//
// RTT: each link keeps its own baseline, an EWMA of the RTT and of its mean deviation (the
// RFC 6298 estimator, α = 1/8, β = 1/4); a sample above mean + 4·deviation (plus a small floor,
// so a perfectly steady link does not alarm on 1 ms of noise) is an anomaly, raised once per
// excursion. Loss: a probe-loss ratio at least LOSS_SPIKE above the link's own loss baseline.

export type AnomalyKind = 'rtt' | 'loss' | 'route' | 'pop-down' | 'pop-up' | 'link-down' | 'link-up';

export interface Anomaly {
  kind: AnomalyKind;
  /** Wall-clock ms when the page saw it. */
  at: number;
  /** A PoP id, or `a–b` for a link, or `a→b` for a route. */
  place: string;
  /** Human-readable magnitude, e.g. "RTT 512 ms (baseline 300 ± 4 ms)". */
  magnitude: string;
  /** PoPs to mark on the map. */
  pops: string[];
}

const ALPHA = 1 / 8;
const BETA = 1 / 4;
const BAND_DEVIATIONS = 4;
const BAND_FLOOR_MS = 5;
const BAND_FLOOR_RATIO = 0.05;
/** Samples before a baseline is trusted. */
const WARMUP = 5;
const LOSS_SPIKE = 0.05;
const LOSS_CLEAR = 0.02;

export class LinkBaseline {
  #mean = 0;
  #dev = 0;
  #lossMean = 0;
  #samples = 0;
  #rttAlarm = false;
  #lossAlarm = false;

  /** Feeds one report; returns the anomalies it raises (at most one per kind per excursion). */
  observe(rttMs: number | null, loss: number | null): { rtt?: string; loss?: string } {
    const out: { rtt?: string; loss?: string } = {};
    const warm = this.#samples >= WARMUP;
    if (rttMs !== null) {
      const band = this.#mean + Math.max(BAND_DEVIATIONS * this.#dev, BAND_FLOOR_MS, BAND_FLOOR_RATIO * this.#mean);
      if (warm && rttMs > band) {
        if (!this.#rttAlarm) out.rtt = `RTT ${fmt(rttMs)} ms, above its band ${fmt(band)} ms (baseline ${fmt(this.#mean)} ± ${fmt(this.#dev)} ms)`;
        this.#rttAlarm = true;
      } else if (rttMs <= band) {
        this.#rttAlarm = false;
      }
      if (this.#samples === 0) {
        this.#mean = rttMs;
        this.#dev = rttMs / 20;
      } else {
        this.#dev += BETA * (Math.abs(rttMs - this.#mean) - this.#dev);
        this.#mean += ALPHA * (rttMs - this.#mean);
      }
    }
    if (loss !== null) {
      if (warm && loss >= this.#lossMean + LOSS_SPIKE) {
        if (!this.#lossAlarm) out.loss = `loss ${pct(loss)} (baseline ${pct(this.#lossMean)})`;
        this.#lossAlarm = true;
      } else if (loss < this.#lossMean + LOSS_CLEAR) {
        this.#lossAlarm = false;
      }
      // The loss baseline only learns while there is no spike, so a lasting spike stays flagged.
      if (!this.#lossAlarm) this.#lossMean += ALPHA * (loss - this.#lossMean);
    }
    this.#samples++;
    return out;
  }
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}
