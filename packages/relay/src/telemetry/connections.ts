// Who is connected, from where, and whether they look like bots: every client connection is
// registered here while it is open, with its country (bundled GeoIP data), its User-Agent class
// and its bot flags. Flags (docs/observability.md):
//   churn            its address opened >= churnConnections connections within the window
//   auth_failures    its address failed authentication >= authFailures times within the window
//   crawler_agent    its User-Agent names a crawler, scanner or headless browser
//   impossible_rate  it published more in one second than its client kind plausibly can
// Counts are exposed as Prometheus metrics (bounded label sets: countries, agent classes, flags)
// and per tenant for the console's connection map and suspicious-connections list.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '@fastpubsub/core';
import { GeoIpCountry } from './geoip.js';
import { IpWindows } from './ip-windows.js';
import { AGENT_CLASSES, classifyUserAgent, type AgentClass } from './user-agent.js';

export const BOT_FLAGS = ['churn', 'auth_failures', 'crawler_agent', 'impossible_rate'] as const;
export type BotFlag = (typeof BOT_FLAGS)[number];

export interface BotThresholds {
  /** Window for churn and auth failures, ms. */
  windowMs: number;
  churnConnections: number;
  authFailures: number;
  /** Publishes per second beyond which a browser-class connection is flagged. */
  browserPublishesPerSec: number;
  /** Publishes per second beyond which any connection is flagged. */
  publishesPerSec: number;
}

export const DEFAULT_BOT_THRESHOLDS: BotThresholds = {
  windowMs: 60_000,
  churnConnections: 30,
  authFailures: 5,
  browserPublishesPerSec: 200,
  publishesPerSec: 50_000,
};

export interface ConnectionInfo {
  edge: 'ws' | 'quic';
  ip: string;
  userAgent?: string | undefined;
  tenants: readonly string[];
  tokenId: string;
}

/** A flagged connection as the console lists it. */
export interface FlaggedConnection {
  id: number;
  edge: 'ws' | 'quic';
  country: string;
  agent: AgentClass;
  tokenId: string;
  flags: BotFlag[];
  openedAt: number;
}

/** An open connection's record; the edge calls published() per publish and closed() once. */
export interface TrackedConnection {
  readonly flags: ReadonlySet<BotFlag>;
  published(): void;
  closed(): void;
}

interface Entry extends FlaggedConnection {
  tenants: readonly string[];
  flagSet: Set<BotFlag>;
  publishesThisSecond: number;
}

const MAX_ADDRESSES = 10_000;
/** A tenant's console lists at most this many flagged connections per PoP. */
const MAX_FLAGGED_LISTED = 20;

export class ConnectionInsights {
  readonly #geo: GeoIpCountry;
  readonly #t: BotThresholds;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #open = new Map<number, Entry>();
  /** Open connections per tenant, so a tenant's figures never scan every connection. */
  readonly #byTenant = new Map<string, Set<Entry>>();
  readonly #churn: IpWindows;
  readonly #authFailures: IpWindows;
  readonly #flaggedTotal: Counter;
  readonly #openedTotal: Counter;
  #nextId = 1;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(o: { registry: Registry; now: () => number; geo?: GeoIpCountry; thresholds?: Partial<BotThresholds>; logger?: Logger }) {
    this.#geo = o.geo ?? new GeoIpCountry();
    this.#t = { ...DEFAULT_BOT_THRESHOLDS, ...o.thresholds };
    this.#now = o.now;
    this.#logger = o.logger;
    this.#churn = new IpWindows(this.#t.windowMs, MAX_ADDRESSES);
    this.#authFailures = new IpWindows(this.#t.windowMs, MAX_ADDRESSES);
    const registers = [o.registry];
    const open = (): Iterable<Entry> => this.#open.values();
    const t = this.#t;
    const churn = this.#churn;
    const authFailures = this.#authFailures;
    const now = this.#now;
    new Gauge({
      name: 'fastpubsub_connections_by_country',
      help: 'Open client connections by country of the client address (bundled GeoIP data; "unknown" for private and unlisted addresses).',
      labelNames: ['country'],
      registers,
      collect() {
        this.reset();
        for (const [country, n] of countBy(open(), (e) => e.country)) this.set({ country }, n);
      },
    });
    new Gauge({
      name: 'fastpubsub_connections_by_agent',
      help: 'Open client connections by User-Agent class.',
      labelNames: ['agent'],
      registers,
      collect() {
        const counts = countBy(open(), (e) => e.agent);
        for (const agent of AGENT_CLASSES) this.set({ agent }, counts.get(agent) ?? 0);
      },
    });
    new Gauge({
      name: 'fastpubsub_flagged_connections',
      help: 'Open client connections carrying a bot flag, by flag.',
      labelNames: ['flag'],
      registers,
      collect() {
        for (const flag of BOT_FLAGS) this.set({ flag }, [...open()].filter((e) => e.flagSet.has(flag)).length);
      },
    });
    this.#flaggedTotal = new Counter({ name: 'fastpubsub_bot_flags_total', help: 'Bot flags raised on connections, by flag.', labelNames: ['flag'], registers });
    for (const flag of BOT_FLAGS) this.#flaggedTotal.inc({ flag }, 0);
    this.#openedTotal = new Counter({ name: 'fastpubsub_connections_opened_total', help: 'Client connections opened, by User-Agent class.', labelNames: ['agent'], registers });
    new Gauge({
      name: 'fastpubsub_churning_addresses',
      help: 'Client addresses that opened at least the churn threshold of connections within the current window.',
      registers,
      collect() {
        this.set(churn.atLeast(t.churnConnections, now()));
      },
    });
    new Gauge({
      name: 'fastpubsub_auth_failing_addresses',
      help: 'Client addresses with at least the auth-failure threshold of failed authentications within the current window.',
      registers,
      collect() {
        this.set(authFailures.atLeast(t.authFailures, now()));
      },
    });
  }

  /** Checks publish rates once a second. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(), 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A failed authentication from `ip` (any edge). */
  authFailed(ip: string): void {
    this.#authFailures.add(ip, this.#now());
  }

  opened(info: ConnectionInfo): TrackedConnection {
    const nowMs = this.#now();
    const agent = classifyUserAgent(info.userAgent);
    this.#openedTotal.inc({ agent });
    const entry: Entry = {
      id: this.#nextId++,
      edge: info.edge,
      country: this.#geo.country(info.ip),
      agent,
      tokenId: info.tokenId,
      flags: [],
      openedAt: nowMs,
      tenants: info.tenants,
      flagSet: new Set(),
      publishesThisSecond: 0,
    };
    this.#open.set(entry.id, entry);
    for (const tenant of info.tenants) {
      let set = this.#byTenant.get(tenant);
      if (set === undefined) this.#byTenant.set(tenant, (set = new Set()));
      set.add(entry);
    }
    if (this.#churn.add(info.ip, nowMs) >= this.#t.churnConnections) this.#flag(entry, 'churn');
    if (this.#authFailures.count(info.ip, nowMs) >= this.#t.authFailures) this.#flag(entry, 'auth_failures');
    if (agent === 'crawler') this.#flag(entry, 'crawler_agent');
    return {
      flags: entry.flagSet,
      published: () => {
        entry.publishesThisSecond++;
      },
      closed: () => {
        if (!this.#open.delete(entry.id)) return;
        for (const tenant of entry.tenants) {
          const set = this.#byTenant.get(tenant);
          set?.delete(entry);
          if (set?.size === 0) this.#byTenant.delete(tenant);
        }
      },
    };
  }

  tick(): void {
    for (const e of this.#open.values()) {
      const limit = e.agent === 'browser' || e.agent === 'crawler' ? this.#t.browserPublishesPerSec : this.#t.publishesPerSec;
      if (e.publishesThisSecond > limit) this.#flag(e, 'impossible_rate');
      e.publishesThisSecond = 0;
    }
    const nowMs = this.#now();
    this.#churn.sweep(nowMs);
    this.#authFailures.sweep(nowMs);
  }

  /** Open connections per tenant. */
  connectionsPerTenant(): Map<string, number> {
    return new Map([...this.#byTenant].map(([tenant, set]) => [tenant, set.size]));
  }

  /** Open connections of `tenant` by country. */
  countries(tenant: string): Record<string, number> {
    return Object.fromEntries(countBy(this.#ofTenant(tenant), (e) => e.country));
  }

  /** Open connections of `tenant` by User-Agent class. */
  agents(tenant: string): Record<string, number> {
    return Object.fromEntries(countBy(this.#ofTenant(tenant), (e) => e.agent));
  }

  /** Up to 20 flagged open connections of `tenant`, newest first. */
  flagged(tenant: string): FlaggedConnection[] {
    const out: FlaggedConnection[] = [];
    for (const e of this.#ofTenant(tenant)) {
      if (e.flagSet.size === 0) continue;
      out.push({ id: e.id, edge: e.edge, country: e.country, agent: e.agent, tokenId: e.tokenId, flags: [...e.flagSet], openedAt: e.openedAt });
    }
    return out.sort((a, b) => b.openedAt - a.openedAt).slice(0, MAX_FLAGGED_LISTED);
  }

  #ofTenant(tenant: string): Iterable<Entry> {
    return this.#byTenant.get(tenant) ?? [];
  }

  #flag(e: Entry, flag: BotFlag): void {
    if (e.flagSet.has(flag)) return;
    e.flagSet.add(flag);
    e.flags = [...e.flagSet];
    this.#flaggedTotal.inc({ flag });
    this.#logger?.info('connection flagged', { conn: e.id, flag, country: e.country, agent: e.agent, tokenId: e.tokenId });
  }
}

function countBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const item of items) m.set(key(item), (m.get(key(item)) ?? 0) + 1);
  return m;
}
