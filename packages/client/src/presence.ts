// Presence in the SDK (docs/presence.md). A subscription to an exact channel may join the
// channel's presence (`subscribe(t, c, { presence: { clientId?, clientData? } })`) and/or
// watch its join/leave events (`onPresence`). The keeper remembers what to (re)send on every
// connection (lines of the WebSocket PRESENCE: extension; the QUIC transport turns each into a
// PRESENCE frame), so presence survives reconnects and migrations; events are taken from the
// active connection only. One client id per client by default (random, stable across
// reconnects), so a migration never shows as two members.

export interface PresenceMember {
  clientId: string;
  data?: unknown;
}

export type PresenceEvent =
  | { type: 'join' | 'leave'; clientId: string; data?: unknown; count: number }
  | { type: 'batch'; joined: number; left: number; count: number };

export interface PresencePage {
  count: number;
  members: PresenceMember[];
  /** Cursor of the next page (pass as `after`), null at the end. */
  next: string | null;
}

export interface PresenceOptions {
  /** The member's id; default one random id per client. */
  clientId?: string;
  /** Member data shown to others (JSON, ≤ 1 KB serialised). */
  clientData?: unknown;
}

interface Entry {
  joins: Set<object>;
  clientId: string | undefined;
  data: unknown;
  watchers: Set<(e: PresenceEvent) => void>;
}

/** The sender of PRESENCE: text lines on one connection. */
export type PresenceLine = (line: string) => void;

const key = (tenant: string, channel: string): string => `${tenant}\u0000${channel}`;

export class PresenceKeeper {
  readonly #entries = new Map<string, Entry>();
  readonly #defaultId: string;

  constructor(defaultId: string) {
    this.#defaultId = defaultId;
  }

  /** Registers one subscription's presence; returns the lines to send now on every connection. */
  add(tenant: string, channel: string, owner: object, join: PresenceOptions | undefined, watcher: ((e: PresenceEvent) => void) | undefined): string[] {
    const k = key(tenant, channel);
    let e = this.#entries.get(k);
    if (e === undefined) this.#entries.set(k, (e = { joins: new Set(), clientId: undefined, data: undefined, watchers: new Set() }));
    const lines: string[] = [];
    if (join !== undefined) {
      e.joins.add(owner);
      e.clientId = join.clientId ?? e.clientId;
      if (join.clientData !== undefined) e.data = join.clientData;
      lines.push(this.#joinLine(tenant, channel, e));
    }
    if (watcher !== undefined) {
      if (e.watchers.size === 0) lines.push(`PRESENCE:WATCH:${tenant}:${channel}`);
      e.watchers.add(watcher);
    }
    return lines;
  }

  /** Unregisters one subscription; returns the lines to send (LEAVE / UNWATCH when it was the last). */
  remove(tenant: string, channel: string, owner: object, watcher: ((e: PresenceEvent) => void) | undefined): string[] {
    const k = key(tenant, channel);
    const e = this.#entries.get(k);
    if (e === undefined) return [];
    const lines: string[] = [];
    if (e.joins.delete(owner) && e.joins.size === 0) lines.push(`PRESENCE:LEAVE:${tenant}:${channel}`);
    if (watcher !== undefined && e.watchers.delete(watcher) && e.watchers.size === 0) lines.push(`PRESENCE:UNWATCH:${tenant}:${channel}`);
    if (e.joins.size === 0 && e.watchers.size === 0) this.#entries.delete(k);
    return lines;
  }

  /** Everything a new connection must be told. */
  replay(): string[] {
    const lines: string[] = [];
    for (const [k, e] of this.#entries) {
      const [tenant, channel] = k.split('\u0000') as [string, string];
      if (e.joins.size > 0) lines.push(this.#joinLine(tenant, channel, e));
      if (e.watchers.size > 0) lines.push(`PRESENCE:WATCH:${tenant}:${channel}`);
    }
    return lines;
  }

  /** A `PRESENCE:EVENT:{tenant}:{channel} {json}` line from the active connection. */
  dispatch(line: string): void {
    if (!line.startsWith('PRESENCE:EVENT:')) return;
    const space = line.indexOf(' ');
    if (space < 0) return;
    const [tenant, channel] = line.slice('PRESENCE:EVENT:'.length, space).split(':') as [string, string];
    const e = this.#entries.get(key(tenant, channel));
    if (e === undefined) return;
    let ev: PresenceEvent;
    try {
      ev = JSON.parse(line.slice(space + 1)) as PresenceEvent;
    } catch {
      return; // a malformed line is dropped, like a malformed delivery
    }
    for (const w of e.watchers) w(ev);
  }

  #joinLine(tenant: string, channel: string, e: Entry): string {
    const args: Record<string, unknown> = { clientId: e.clientId ?? this.#defaultId };
    if (e.data !== undefined) args.data = e.data;
    return `PRESENCE:JOIN:${tenant}:${channel} ${JSON.stringify(args)}`;
  }
}
