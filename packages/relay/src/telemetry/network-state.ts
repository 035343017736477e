// Publishes this PoP's network state (health, mesh links, overlay routes) on the system
// tenant's channels (@fastpubsub/protocol network-state), so the live map and any other
// subscriber get it over FastPubSub itself: every `intervalMs` (a heartbeat that also carries
// the latest RTTs) and at once when a link goes up or down or a route changes. Knows the mesh
// and the dispatcher only through the two seams below; node.ts wires them.
import {
  NETWORK_STATE_INTERVAL_MS,
  networkStateChannels,
  type LinkStateEntry,
  type LinkStateMessage,
  type PopHealthMessage,
  type RouteStateEntry,
  type RouteStateMessage,
} from '@fastpubsub/protocol';

/** What the publisher reads: the mesh's view of its links and routes. */
export interface NetworkStateSource {
  readonly id: string;
  links(): readonly { peer: string; state: string; rttMs: number | null; jitterMs: number | null; loss: number | null }[];
  routes(): readonly { dest: string; path: readonly string[]; pathLatencyMs: number; directLatencyMs: number | null }[];
}

export interface NetworkStatePublisherOptions {
  source: NetworkStateSource;
  /** Hands one JSON payload to the local dispatcher (which fans out and forwards over the mesh). */
  publish: (channel: string, payload: Uint8Array) => void;
  region: string;
  location: { lat: number; lon: number; city?: string } | undefined;
  connections: () => number;
  now: () => number;
  intervalMs?: number;
  /** How often link up/down and route changes are looked for between heartbeats, ms. */
  changeCheckMs?: number;
}

export class NetworkStatePublisher {
  readonly #o: NetworkStatePublisherOptions;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #encoder = new TextEncoder();
  #seq = 0;
  #lastShape = '';
  #stopped = false;

  constructor(o: NetworkStatePublisherOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#timers.length > 0 || this.#stopped) return;
    this.publishAll();
    const beat = setInterval(() => this.publishAll(), this.#o.intervalMs ?? NETWORK_STATE_INTERVAL_MS);
    const watch = setInterval(() => this.#publishIfChanged(), this.#o.changeCheckMs ?? 100);
    beat.unref();
    watch.unref();
    this.#timers.push(beat, watch);
  }

  /** Says goodbye (health `stopping`) and stops; idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    this.#send(networkStateChannels.health(this.#o.source.id), this.#health('stopping'));
  }

  /** Health, links and routes now. */
  publishAll(): void {
    if (this.#stopped) return;
    const links = this.#links();
    const routes = this.#routes();
    this.#lastShape = shapeOf(links, routes);
    const pop = this.#o.source.id;
    this.#send(networkStateChannels.health(pop), this.#health('up'));
    this.#send(networkStateChannels.links(pop), { kind: 'links', pop, ts: this.#o.now(), seq: ++this.#seq, links } satisfies LinkStateMessage);
    this.#send(networkStateChannels.routes(pop), { kind: 'routes', pop, ts: this.#o.now(), seq: ++this.#seq, routes } satisfies RouteStateMessage);
  }

  #publishIfChanged(): void {
    if (shapeOf(this.#links(), this.#routes()) !== this.#lastShape) this.publishAll();
  }

  #health(status: PopHealthMessage['status']): PopHealthMessage {
    const loc = this.#o.location;
    return {
      kind: 'health',
      pop: this.#o.source.id,
      status,
      region: this.#o.region,
      city: loc?.city ?? null,
      lat: loc?.lat ?? null,
      lon: loc?.lon ?? null,
      ts: this.#o.now(),
      seq: ++this.#seq,
      connections: this.#o.connections(),
    };
  }

  #links(): LinkStateEntry[] {
    return this.#o.source.links().map((l) => ({ peer: l.peer, up: l.state === 'up', rttMs: l.rttMs, jitterMs: l.jitterMs, loss: l.loss }));
  }

  #routes(): RouteStateEntry[] {
    return this.#o.source.routes().map((r) => ({ dest: r.dest, path: [...r.path], pathLatencyMs: r.pathLatencyMs, directLatencyMs: r.directLatencyMs }));
  }

  #send(channel: string, message: object): void {
    this.#o.publish(channel, this.#encoder.encode(JSON.stringify(message)));
  }
}

/** What counts as a change worth publishing at once: which links are up, and the route paths. */
function shapeOf(links: readonly LinkStateEntry[], routes: readonly RouteStateEntry[]): string {
  return links.map((l) => `${l.peer}:${l.up ? 1 : 0}`).join(',') + '|' + routes.map((r) => `${r.dest}:${r.path.join('>')}`).join(',');
}
