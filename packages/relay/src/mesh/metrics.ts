// Prometheus metrics of the mesh. Per-peer labels are bounded by the mesh size (tens of PoPs).
// Counters are incremented on the hot path through pre-bound children; link gauges are read
// from the live links only when Prometheus scrapes.
import type { AgentRefusal } from './link/agent-guard.js';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface LinkGaugeSource {
  peer: string;
  rttMs: number | null;
  jitterMs: number | null;
  loss: number | null;
  cost: number | null;
  up: boolean;
  queueDropped: number;
  queueSuperseded: number;
}

export type MeshDropReason = 'duplicate' | 'ttl' | 'unreachable' | 'no_link' | 'bad_frame' | AgentRefusal;

export class MeshMetrics {
  readonly #fwdOut: Counter<'peer'>;
  readonly #fwdIn: Counter<'peer'>;
  readonly #bytesOut: Counter<'peer'>;
  readonly #bytesIn: Counter<'peer'>;
  readonly #drops: Counter<'reason'>;
  readonly routeChanges: Counter;
  readonly deliveredRemote: Counter;

  constructor(registry: Registry, links: () => LinkGaugeSource[], refusedHandshakes: () => number = () => 0) {
    const registers = [registry];
    new Counter({
      name: 'fastpubsub_mesh_handshakes_refused_total',
      help: 'Mesh connections refused: a certificate from another CA, none, or no relay/agent identity in it.',
      registers,
      collect() {
        this.reset();
        this.inc(refusedHandshakes());
      },
    });
    this.#fwdOut = new Counter({ name: 'fastpubsub_mesh_messages_sent_total', help: 'FWD copies sent, by next hop.', labelNames: ['peer'], registers });
    this.#fwdIn = new Counter({ name: 'fastpubsub_mesh_messages_received_total', help: 'FWD copies received, by previous hop.', labelNames: ['peer'], registers });
    this.#bytesOut = new Counter({ name: 'fastpubsub_mesh_bytes_sent_total', help: 'FWD bytes sent, by next hop.', labelNames: ['peer'], registers });
    this.#bytesIn = new Counter({ name: 'fastpubsub_mesh_bytes_received_total', help: 'FWD bytes received, by previous hop.', labelNames: ['peer'], registers });
    this.#drops = new Counter({ name: 'fastpubsub_mesh_dropped_total', help: 'Mesh copies not forwarded or delivered, by reason.', labelNames: ['reason'], registers });
    for (const r of ['duplicate', 'ttl', 'unreachable', 'no_link'] as const) this.#drops.labels(r).inc(0);
    this.routeChanges = new Counter({ name: 'fastpubsub_mesh_route_changes_total', help: 'Next-hop changes of installed routes.', registers });
    this.deliveredRemote = new Counter({ name: 'fastpubsub_mesh_delivered_total', help: 'Messages from other PoPs handed to local fan-out.', registers });
    const gauge = (name: string, help: string, pick: (l: LinkGaugeSource) => number | null): void => {
      new Gauge({
        name,
        help,
        labelNames: ['peer'],
        registers,
        collect() {
          this.reset();
          for (const l of links()) {
            const v = pick(l);
            if (v !== null) this.set({ peer: l.peer }, v);
          }
        },
      });
    };
    gauge('fastpubsub_mesh_link_rtt_ms', 'Smoothed probe RTT per link.', (l) => l.rttMs);
    gauge('fastpubsub_mesh_link_jitter_ms', 'Smoothed RTT deviation per link.', (l) => l.jitterMs);
    gauge('fastpubsub_mesh_link_loss_ratio', 'Smoothed probe loss per link.', (l) => l.loss);
    gauge('fastpubsub_mesh_link_cost_ms', 'Link cost (docs/routing.md) per link.', (l) => l.cost);
    gauge('fastpubsub_mesh_link_up', '1 while the link is up by its probes.', (l) => (l.up ? 1 : 0));
    // Counters: each link counts its own; the collector adds what each link counted since the
    // last scrape, so the series never goes down when a link is replaced.
    const linkCounter = (name: string, help: string, value: (l: LinkGaugeSource) => number): void => {
      const seen = new Map<string, number>();
      new Counter({
        name,
        help,
        labelNames: ['peer'],
        registers,
        collect() {
          for (const l of links()) {
            const now = value(l);
            const last = seen.get(l.peer) ?? 0;
            seen.set(l.peer, now);
            this.inc({ peer: l.peer }, now >= last ? now - last : now); // a new link starts at 0
          }
        },
      });
    };
    linkCounter('fastpubsub_mesh_link_queue_dropped_total', 'FWD frames dropped from the link queue (drop-oldest), by peer.', (l) => l.queueDropped);
    linkCounter('fastpubsub_mesh_link_queue_superseded_total', 'Latest-mode FWD frames replaced in the link queue by a newer one of the same channel, by peer.', (l) => l.queueSuperseded);
  }

  sent(peer: string, bytes: number): void {
    this.#fwdOut.labels(peer).inc();
    this.#bytesOut.labels(peer).inc(bytes);
  }

  received(peer: string, bytes: number): void {
    this.#fwdIn.labels(peer).inc();
    this.#bytesIn.labels(peer).inc(bytes);
  }

  dropped(reason: MeshDropReason, n = 1): void {
    this.#drops.labels(reason).inc(n);
  }
}
