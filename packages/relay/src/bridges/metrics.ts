// Counters of the NATS and Redis bridges; label values are bridge ids from the config and
// the closed sets below, so the series stay bounded.
import { Counter, Gauge, type Registry } from 'prom-client';

export type BridgeDirection = 'in' | 'out';
export type BridgeDrop = 'down' | 'loop' | 'unmappable';

export class BridgeMetrics {
  readonly #messages: Counter<'bridge' | 'direction'>;
  readonly #dropped: Counter<'bridge' | 'reason'>;
  readonly #reconnects: Counter<'bridge'>;

  constructor(registry: Registry, state: () => Array<{ id: string; up: boolean; carrier: boolean }>) {
    const registers = [registry];
    this.#messages = new Counter({ name: 'fastpubsub_bridge_messages_total', help: 'Messages carried by a bridge, by direction (in = into FastPubSub).', labelNames: ['bridge', 'direction'], registers });
    this.#dropped = new Counter({
      name: 'fastpubsub_bridge_dropped_total',
      help: 'Messages a bridge did not carry: external system down, its own echo (loop), or no valid mapping.',
      labelNames: ['bridge', 'reason'],
      registers,
    });
    this.#reconnects = new Counter({ name: 'fastpubsub_bridge_disconnects_total', help: 'Times a bridge lost its external system.', labelNames: ['bridge'], registers });
    new Gauge({
      name: 'fastpubsub_bridge_up',
      help: '1 while the bridge is connected to its external system.',
      labelNames: ['bridge'],
      registers,
      collect() {
        for (const b of state()) this.set({ bridge: b.id }, b.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'fastpubsub_bridge_carrier',
      help: '1 while this PoP carries the bridge (one PoP at a time among those configuring it).',
      labelNames: ['bridge'],
      registers,
      collect() {
        for (const b of state()) this.set({ bridge: b.id }, b.carrier ? 1 : 0);
      },
    });
  }

  carried(bridge: string, direction: BridgeDirection): void {
    this.#messages.inc({ bridge, direction });
  }

  dropped(bridge: string, reason: BridgeDrop): void {
    this.#dropped.inc({ bridge, reason });
  }

  disconnected(bridge: string): void {
    this.#reconnects.inc({ bridge });
  }
}
