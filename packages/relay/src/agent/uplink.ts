// Which PoP the agent's one tunnel goes to. The selector is the mesh's discovery: it offers the
// transport only the PoP it chose (and, while moving, the next one too), so the agent holds one
// link except for the moment of a move. It probes every PoP it may use (a QUIC handshake with
// the agent's certificate from the tunnel's own endpoint, so over the tunnel's path; quinn's
// RTT of that handshake, smoothed), attaches to the nearest, and moves when the current one
// stops answering or another is nearer by the configured margin. A move
// is make-before-break: the old link is closed only once the new one is up; messages on the
// mesh are de-duplicated by id, so the overlap delivers nothing twice.
import type { AgentConfig, Logger } from '@fastpubsub/core';
import type { MeshDiscovery, PeerCandidate } from '../mesh/link/discovery.js';

/** What the selector needs to see of the mesh. */
export interface UplinkView {
  /** 'up' when the link to `peer` is up, 'none' when there is none, else its health state. */
  linkState(peer: string): string;
  closePeer(peer: string, reason: string): void;
  /** One QUIC handshake to the relay at `addr` from the tunnel's own endpoint. */
  probe(addr: string, timeoutMs: number, over: 'tcp' | undefined): Promise<{ id: string; rttMs: number }>;
}

export interface UplinkOptions {
  /** Mesh addresses (host:port) of the PoPs this agent may use. */
  pops: readonly string[];
  config: AgentConfig;
  logger: Logger;
  now: () => number;
}

export interface UplinkStatus {
  current: { addr: string; id: string | undefined } | undefined;
  moving: { addr: string; id: string | undefined } | undefined;
  /** What the tunnel runs over. */
  over: 'quic' | 'tcp';
  rttMs: Record<string, number | null>;
  moves: number;
}

const TICK_MS = 100;
/** The current PoP's link may be missing or unhealthy this long before a probe round is forced. */
const DOWN_GRACE_MS = 300;
/** At most one forced probe round per this period. */
const MIN_PROBE_GAP_MS = 1000;
/** A move whose new link is not up within this is abandoned. */
const MOVE_TIMEOUT_MS = 5000;
/**
 * After a make-before-break move the old link stays this long: publishes already on it still
 * arrive while the routes of both sides move to the new link.
 */
const OLD_LINK_DRAIN_MS = 1000;
/** Weight of a new probe sample in the smoothed RTT of a PoP. */
const RTT_SMOOTHING = 0.3;

export class UplinkSelector implements MeshDiscovery {
  readonly #o: UplinkOptions;
  readonly #rtt = new Map<string, number>();
  readonly #ids = new Map<string, string>();
  #view: UplinkView | undefined;
  #current: string | undefined;
  /** 'tcp' while the tunnel falls back to WebSocket on TLS (no PoP answers over QUIC). */
  #over: 'tcp' | undefined;
  #next: { addr: string; since: number } | undefined;
  #downSince: number | undefined;
  #lastProbe = -Infinity;
  #probing = false;
  readonly #timers: NodeJS.Timeout[] = [];
  #closed = false;
  moves = 0;

  constructor(o: UplinkOptions) {
    this.#o = o;
  }

  candidates(): readonly PeerCandidate[] {
    const out: PeerCandidate[] = [];
    for (const addr of [this.#current, this.#next?.addr]) {
      if (addr === undefined) continue;
      const id = this.#ids.get(addr);
      out.push({ addr, ...(id === undefined ? {} : { id }), ...(this.#over === 'tcp' ? { over: 'tcp' as const } : {}) });
    }
    return out;
  }

  learn(): void {
    // An agent dials only the PoPs it was given: peer exchange is off.
  }

  status(): UplinkStatus {
    const at = (addr: string | undefined): UplinkStatus['current'] => (addr === undefined ? undefined : { addr, id: this.#ids.get(addr) });
    const rttMs: Record<string, number | null> = {};
    for (const p of this.#o.pops) {
      const r = this.#rtt.get(p);
      rttMs[p] = r === undefined || !Number.isFinite(r) ? null : Math.round(r * 100) / 100;
    }
    return { current: at(this.#current), moving: at(this.#next?.addr), over: this.#over ?? 'quic', rttMs, moves: this.moves };
  }

  /** The relay id of the PoP the tunnel goes to now, once known. */
  currentPeer(): string | undefined {
    return this.#current === undefined ? undefined : this.#ids.get(this.#current);
  }

  start(view: UplinkView): void {
    this.#view = view;
    this.#timers.push(setInterval(() => void this.#probeRound(), this.#o.config.probeIntervalMs));
    this.#timers.push(setInterval(() => this.#tick(), TICK_MS));
    void this.#probeRound();
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
  }

  #tick(): void {
    const view = this.#view;
    if (view === undefined || this.#closed) return;
    const now = this.#o.now();
    const next = this.#next;
    if (next !== undefined) {
      const nextId = this.#ids.get(next.addr);
      if (nextId !== undefined && view.linkState(nextId) === 'up') this.#switchTo(next.addr, OLD_LINK_DRAIN_MS); // make, then break
      else if (now - next.since > MOVE_TIMEOUT_MS) {
        this.#o.logger.warn('agent: move abandoned, new link not up', { to: next.addr });
        this.#next = undefined;
      }
    }
    const id = this.currentPeer();
    const up = id !== undefined && view.linkState(id) === 'up';
    if (up) this.#downSince = undefined;
    else this.#downSince ??= now;
    if (this.#downSince !== undefined && now - this.#downSince > DOWN_GRACE_MS && now - this.#lastProbe > MIN_PROBE_GAP_MS) void this.#probeRound();
  }

  /**
   * Probes every PoP over QUIC; when none answers, over TCP (the mesh's WebSocket on TLS), and
   * the tunnel falls back to TCP if some PoP answers there. In TCP mode every round tries QUIC
   * first, and the tunnel returns to QUIC as soon as a PoP answers over it.
   */
  async #probeRound(): Promise<void> {
    if (this.#probing || this.#closed) return;
    this.#probing = true;
    this.#lastProbe = this.#o.now();
    try {
      const quic = await this.#measure(undefined);
      if (quic.size > 0) {
        if (this.#over === 'tcp') this.#setOver(undefined);
        this.#absorb(quic);
      } else {
        const tcp = await this.#measure('tcp');
        if (tcp.size > 0 && this.#over !== 'tcp') this.#setOver('tcp');
        this.#absorb(this.#over === 'tcp' ? tcp : quic);
      }
      if (!this.#closed) this.#decide();
    } finally {
      this.#probing = false;
    }
  }

  async #measure(over: 'tcp' | undefined): Promise<Map<string, { id: string; rttMs: number }>> {
    const out = new Map<string, { id: string; rttMs: number }>();
    const view = this.#view;
    if (view === undefined) return out;
    await Promise.all(
      this.#o.pops.map(async (addr) => {
        try {
          out.set(addr, await view.probe(addr, this.#o.config.probeTimeoutMs, over));
        } catch (err) {
          this.#o.logger.debug('agent: probe failed', { addr, over: over ?? 'quic', err: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
    return out;
  }

  #absorb(results: Map<string, { id: string; rttMs: number }>): void {
    for (const addr of this.#o.pops) {
      const r = results.get(addr);
      if (r === undefined) {
        this.#rtt.set(addr, Infinity);
        continue;
      }
      this.#ids.set(addr, r.id);
      // Smoothed, so one slow handshake on a busy host does not move the tunnel.
      const prev = this.#rtt.get(addr);
      this.#rtt.set(addr, prev === undefined || !Number.isFinite(prev) ? r.rttMs : prev + RTT_SMOOTHING * (r.rttMs - prev));
    }
  }

  /** Changes what the tunnel runs over; the current link closes and the nearest PoP is dialed anew. */
  #setOver(over: 'tcp' | undefined): void {
    this.#o.logger.info(over === 'tcp' ? 'agent: no PoP answers over QUIC, tunnel over WebSocket/TLS (TCP)' : 'agent: QUIC answers again, tunnel back to QUIC', {});
    const old = this.currentPeer();
    this.#over = over;
    this.#rtt.clear();
    this.#current = undefined;
    this.#next = undefined;
    if (old !== undefined) this.#view?.closePeer(old, 'tunnel transport changed');
  }

  #decide(): void {
    let best: string | undefined;
    for (const p of this.#o.pops) if (Number.isFinite(this.#rtt.get(p)) && (best === undefined || this.#rtt.get(p)! < this.#rtt.get(best)!)) best = p;
    if (best === undefined || best === this.#current || best === this.#next?.addr) return;
    const cur = this.#current === undefined ? Infinity : (this.#rtt.get(this.#current) ?? Infinity);
    if (!Number.isFinite(cur)) {
      // Nothing to make before breaking: the current PoP does not answer.
      this.#switchTo(best);
      return;
    }
    const { switchMarginMs, switchMarginRatio } = this.#o.config;
    const gain = cur - this.#rtt.get(best)!;
    if (gain > switchMarginMs && gain > cur * switchMarginRatio) {
      this.#o.logger.info('agent: moving to a nearer PoP', { from: this.#current, to: best, rttMs: this.#rtt.get(best), currentRttMs: cur });
      this.#next = { addr: best, since: this.#o.now() };
    }
  }

  /** Attaches to `addr`; the old link is closed after `drainMs` (what it still carries arrives). */
  #switchTo(addr: string, drainMs = 0): void {
    const old = this.#current;
    this.#current = addr;
    this.#next = undefined;
    this.#downSince = undefined;
    if (old !== undefined) this.moves++;
    const oldId = old === undefined ? undefined : this.#ids.get(old);
    if (oldId !== undefined && oldId !== this.#ids.get(addr)) {
      const closeOld = (): void => {
        // Unless the agent has come back to it meanwhile.
        if (this.currentPeer() !== oldId && this.#next?.addr !== old) this.#view?.closePeer(oldId, 'agent moved');
      };
      if (drainMs === 0) closeOld();
      else this.#timers.push(setTimeout(closeOld, drainMs));
    }
    this.#o.logger.info('agent: attached', { pop: this.#ids.get(addr), addr, rttMs: this.#rtt.get(addr), from: old ?? null });
  }
}
