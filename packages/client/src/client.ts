// The client core: connection lifecycle, make-before-break reconnect (contract v0.1 §6),
// duplicate suppression during the overlap, token refresh, the publish queue and the
// subscription table. Transport-agnostic: it only talks to ./transport.ts.
import { validateChannel, validatePattern, validateTenant, MAX_PAYLOAD } from '@fastpubsub/wire';
import { Emitter } from './emitter.js';
import { MeshReadyWaiters } from './mesh-ready.js';
import { ClientError, abortError, sleep, withSignal } from './errors.js';
import { parseEdge, discoverEdges, selectFastestEdge, type Edge } from './endpoint.js';
import { OverlapFilter, payloadKey } from './dedupe.js';
import { backoffDelay, resolveOptions, toEpochMs, type ConnectOptions, type ResolvedOptions, type TokenProvider, type TokenReason } from './options.js';
import { SubscriptionImpl, type Message, type SubscribeOptions, type Subscription } from './subscription.js';
import type { Delivery, DeliveryMode, Transport, TransportConnection } from './transport.js';
import { PublishQueue } from './queue.js';

export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ClientEvents {
  state: { state: ClientState; previous: ClientState };
  /** A connection became active (first connect, after a reconnect or a migration). */
  connected: { edge: Edge; migration: boolean };
  /** A reconnect attempt failed; the next one starts after `delayMs`. */
  reconnecting: { attempt: number; delayMs: number; error: Error };
  /** A new RTT sample from PING/PONG (contract §4). */
  rtt: { rttMs: number };
  /** The token provider gave a new token. */
  token: { expiresAt: number | undefined; reason: TokenReason };
  /** A non-fatal error: an `ERR:` from the edge, a failed token refresh, … */
  error: ClientError;
  closed: { error: Error | undefined };
}

export interface ClientStats {
  /** Messages handed to a connection. */
  published: number;
  /** Messages waiting in the publish queue (no connection). */
  queued: number;
  /** Messages the publish queue dropped by its policy. */
  queueDropped: number;
  /** Deliveries dropped as duplicates during a make-before-break overlap. */
  duplicatesDropped: number;
  /** Connections that became active after the first. */
  reconnects: number;
}

export interface PublishOptions {
  delivery?: DeliveryMode;
}

export interface Client {
  readonly state: ClientState;
  /** Latest PING/PONG round trip in ms (undefined before the first PONG). */
  readonly rttMs: number | undefined;
  /** The edge in use (or last used). */
  readonly edge: Edge | undefined;
  readonly stats: Readonly<ClientStats>;
  /** Bytes the active connection holds unsent (backpressure hint; 0 when disconnected). */
  readonly bufferedAmount: number;
  on<K extends keyof ClientEvents>(event: K, listener: (e: ClientEvents[K]) => void): () => void;
  publish(tenant: string, channel: string, payload: Uint8Array | string, options?: PublishOptions): void;
  subscribe(tenant: string, pattern: string, options?: SubscribeOptions): Promise<Subscription>;
  /** Resolves when everything published so far has left the client (queue empty, socket drained). */
  flush(options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the client closes: undefined after close(), else the fatal error. Never rejects. */
  closed(): Promise<Error | undefined>;
}

const textEncoder = new TextEncoder();
/** ERR codes that refuse a SUB (its detail names it); others, e.g. slow_consumer, do not end it. */
const SUB_REFUSAL_CODES: ReadonlySet<string> = new Set([
  'permission_denied', 'invalid_pattern', 'invalid_name', 'too_many_subscriptions', 'token_expired', 'rate_limited', 'internal',
]);
const key = (tenant: string, pattern: string): string => `${tenant}\u0000${pattern}`;

interface Entry {
  tenant: string;
  pattern: string;
  subs: Set<SubscriptionImpl>;
  /** subscribe() calls waiting for OK:SUB on the active connection. */
  waiters: Set<{ resolve: () => void; reject: (e: Error) => void }>;
}

class Conn {
  link: TransportConnection | undefined;
  alive = true;
  role: 'pending' | 'active' | 'draining' = 'pending';
  readonly confirmed = new Set<string>();
  readonly awaiting = new Set<string>();
  /** SUBs this connection refused: the inert OK:SUB that follows the ERR (contract §11.8) confirms nothing. */
  readonly refused = new Set<string>();
  allConfirmed: (() => void) | undefined;
  failed: ((e: Error) => void) | undefined;
  pingSentAt: number | undefined;
  pingTimer: ReturnType<typeof setTimeout> | undefined;
  drainTimer: ReturnType<typeof setTimeout> | undefined;
  constructor(readonly edge: Edge) {}
}

function badArgument(err: unknown): ClientError {
  return new ClientError('bad_argument', err instanceof Error ? err.message : String(err), { cause: err });
}

export class ClientImpl implements Client {
  state: ClientState = 'connecting';
  rttMs: number | undefined;
  edge: Edge | undefined;
  readonly stats: ClientStats = { published: 0, queued: 0, queueDropped: 0, duplicatesDropped: 0, reconnects: 0 };

  private readonly events = new Emitter<ClientEvents>();
  private readonly opts: ResolvedOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly conns = new Set<Conn>();
  private active: Conn | undefined;
  private pending: Conn | undefined;
  private readonly overlap = new OverlapFilter<Conn>();
  private readonly meshReady = new MeshReadyWaiters<Conn>();
  private readonly queue: PublishQueue;
  private readonly closeAc = new AbortController();
  private readonly closedPromise: Promise<Error | undefined>;
  private resolveClosed!: (e: Error | undefined) => void;
  private loop: Promise<void> | undefined;
  private candidates: Edge[] | undefined;
  private readonly discoveryUrl: string | undefined;
  private token: string | undefined;
  private tokenExpiresAt: number | undefined;
  private tokenRefresh: Promise<void> | undefined;
  private tokenTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly tokenProvider: TokenProvider | undefined;
  private everConnected = false;

  constructor(
    options: ConnectOptions,
    private readonly transport: Transport,
  ) {
    this.opts = resolveOptions(options);
    this.queue = new PublishQueue(this.opts.queue.maxMessages, this.opts.queue.policy, this.stats);
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.token = options.token;
    this.tokenExpiresAt = toEpochMs(options.tokenExpiresAt);
    this.tokenProvider = options.tokenProvider;
    if (this.token === undefined && this.tokenProvider === undefined) throw new ClientError('bad_argument', 'connect() needs a token or a tokenProvider');
    const given = [options.endpoint !== undefined, options.bootstrap !== undefined].filter(Boolean).length;
    if (given !== 1) throw new ClientError('bad_argument', 'connect() needs exactly one of endpoint or bootstrap');
    if (options.endpoint !== undefined) this.candidates = [parseEdge(options.endpoint)];
    else if (typeof options.bootstrap === 'string') this.discoveryUrl = options.bootstrap;
    else {
      if (options.bootstrap!.length === 0) throw new ClientError('bad_argument', 'bootstrap is an empty list');
      this.candidates = options.bootstrap!.map((b) => parseEdge(b));
    }
  }

  on<K extends keyof ClientEvents>(event: K, listener: (e: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  closed(): Promise<Error | undefined> {
    return this.closedPromise;
  }

  get bufferedAmount(): number {
    return this.active?.link?.bufferedAmount ?? 0;
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** First connection: one attempt (plus one after a token refresh on 401), like the reference SDK. */
  async start(signal: AbortSignal | undefined): Promise<void> {
    const onAbort = (): void => void this.shutdown(abortError(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (this.token === undefined) await this.refreshToken('initial');
      else this.scheduleTokenRefresh();
      let conn: Conn;
      try {
        conn = await this.openAndSubscribe(false);
      } catch (err) {
        if (!(err instanceof ClientError && err.code === 'unauthorized' && this.tokenProvider !== undefined)) throw err;
        await this.refreshToken('unauthorized');
        conn = await this.openAndSubscribe(false);
      }
      this.switchTo(conn);
    } catch (err) {
      const e = signal?.aborted ? abortError(signal) : err instanceof Error ? err : new Error(String(err));
      await this.shutdown(e);
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private setState(state: ClientState): void {
    if (this.state === state || this.state === 'closed') return;
    const previous = this.state;
    this.state = state;
    this.events.emit('state', { state, previous });
  }

  async close(): Promise<void> {
    await this.shutdown(undefined);
  }

  private async shutdown(error: Error | undefined): Promise<void> {
    if (this.state === 'closed') return;
    this.setState('closed');
    this.closeAc.abort(new ClientError('closed', 'client closed'));
    clearTimeout(this.tokenTimer);
    for (const c of [...this.conns]) this.dropConn(c);
    const endWith = error ?? undefined;
    for (const entry of this.entries.values()) {
      for (const w of entry.waiters) w.reject(new ClientError('closed', 'client closed'));
      for (const s of entry.subs) s.end(endWith);
    }
    this.entries.clear();
    this.queue.clear();
    this.events.emit('closed', { error });
    this.resolveClosed(error);
  }

  // ---- connections -----------------------------------------------------------------------

  private async pickEdge(reselect: boolean): Promise<Edge> {
    const signal = this.closeAc.signal;
    if (this.discoveryUrl !== undefined && (this.candidates === undefined || reselect)) {
      this.candidates = await discoverEdges(this.discoveryUrl, { signal });
    }
    const candidates = this.candidates!;
    if (candidates.length === 1) return candidates[0]!;
    if (!reselect && this.edge !== undefined) return this.edge;
    return (await selectFastestEdge(candidates, { signal })).edge;
  }

  /** Opens a connection, sends every SUB and resolves once every OK:SUB arrived. */
  private async openAndSubscribe(reselect: boolean): Promise<Conn> {
    const edge = await this.pickEdge(reselect);
    if (this.token === undefined) await this.refreshToken('initial');
    const conn = new Conn(edge);
    const link = await this.transport.open({
      edge,
      token: this.token!,
      signal: this.closeAc.signal,
      timeoutMs: this.opts.openTimeoutMs,
      events: {
        onDelivery: (d) => this.onDelivery(conn, d),
        onSubscribed: (t, p) => this.onSubscribed(conn, t, p),
        onUnsubscribed: () => {},
        onPong: () => this.onPong(conn),
        onMeshReady: (t, p, complete) => this.meshReady.answer(conn, t, p, complete),
        onServerError: (code, detail) => this.onServerError(conn, code, detail),
        onReconnectRequested: () => {
          if (conn === this.active) this.migrate();
        },
        onClose: (err) => this.onConnClosed(conn, err),
      },
    });
    conn.link = link;
    if (this.state === 'closed') {
      link.close();
      throw new ClientError('closed', 'client closed');
    }
    this.conns.add(conn);
    this.pending = conn;
    if (this.conns.size >= 2) for (const c of this.conns) this.overlap.track(c);
    for (const e of this.entries.values()) {
      conn.awaiting.add(key(e.tenant, e.pattern));
      link.subscribe(e.tenant, e.pattern);
    }
    if (conn.awaiting.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await withSignal(
          new Promise<void>((resolve, reject) => {
            conn.allConfirmed = resolve;
            conn.failed = reject;
            timer = setTimeout(() => reject(new ClientError('timeout', `no OK:SUB for ${conn.awaiting.size} subscription(s) within ${this.opts.resubscribeTimeoutMs} ms`)), this.opts.resubscribeTimeoutMs);
          }),
          this.closeAc.signal,
        );
      } catch (err) {
        this.dropConn(conn);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    }
    return conn;
  }

  private switchTo(conn: Conn): void {
    if (this.state === 'closed') return this.dropConn(conn);
    const old = this.active;
    if (this.pending === conn) this.pending = undefined;
    conn.role = 'active';
    this.active = conn;
    this.edge = conn.edge;
    if (this.everConnected) this.stats.reconnects++;
    const migration = this.everConnected;
    this.everConnected = true;
    if (old !== undefined && old.alive) {
      old.role = 'draining';
      clearTimeout(old.pingTimer);
      old.drainTimer = setTimeout(() => this.dropConn(old), this.opts.reconnect.overlapMs);
    }
    for (const e of this.entries.values()) {
      if (!conn.confirmed.has(key(e.tenant, e.pattern))) continue;
      for (const w of e.waiters) w.resolve();
      e.waiters.clear();
    }
    this.setState('connected');
    this.events.emit('connected', { edge: conn.edge, migration });
    this.queue.drain((m) => this.send(conn, m.tenant, m.channel, m.payload, m.mode));
    this.schedulePing(conn, 0);
  }

  private dropConn(conn: Conn): void {
    if (!conn.alive) return;
    conn.alive = false;
    clearTimeout(conn.pingTimer);
    clearTimeout(conn.drainTimer);
    this.conns.delete(conn);
    this.overlap.forget(conn);
    if (this.pending === conn) this.pending = undefined;
    conn.failed?.(new ClientError('connect_failed', 'connection closed before every OK:SUB arrived'));
    conn.link?.close();
  }

  private onConnClosed(conn: Conn, err: ClientError | undefined): void {
    const wasActive = conn === this.active && conn.alive;
    this.dropConn(conn);
    if (!wasActive || this.state === 'closed') return;
    this.active = undefined;
    if (!this.opts.reconnect.enabled) {
      void this.shutdown(err ?? new ClientError('connect_failed', 'connection closed'));
      return;
    }
    this.setState('reconnecting');
    this.startLoop();
  }

  /** Make-before-break migration while the active connection still works (RECONNECT, new token). */
  private migrate(): void {
    if (this.state === 'closed') return;
    this.startLoop();
  }

  private startLoop(): void {
    if (this.loop !== undefined) return;
    this.loop = this.reconnectLoop().finally(() => (this.loop = undefined));
  }

  private async reconnectLoop(): Promise<void> {
    const r = this.opts.reconnect;
    let attempt = 0;
    let refreshedAfter401 = false;
    while (this.state !== 'closed') {
      try {
        const conn = await this.openAndSubscribe(attempt > 0);
        this.switchTo(conn);
        return;
      } catch (err) {
        if (this.isClosed()) return;
        const error = err instanceof Error ? err : new Error(String(err));
        if (error instanceof ClientError && error.code === 'unauthorized') {
          // A refused token (revoked, or expired with no way to get another) never becomes
          // valid by retrying: end the client with the 401 instead of backing off forever.
          if (this.tokenProvider === undefined || refreshedAfter401) return void (await this.shutdown(error));
          try {
            await this.refreshToken('unauthorized');
            refreshedAfter401 = true;
          } catch {
            // reported through the 'error' event; keep backing off
          }
        }
        attempt++;
        if (attempt >= r.maxAttempts) {
          if (this.active === undefined) await this.shutdown(error);
          return;
        }
        const delayMs = backoffDelay(attempt, r.baseDelayMs, r.maxDelayMs);
        this.events.emit('reconnecting', { attempt, delayMs, error });
        try {
          await sleep(delayMs, this.closeAc.signal);
        } catch {
          return;
        }
      }
    }
  }

  // ---- frames from the edge ----------------------------------------------------------------

  private onDelivery(conn: Conn, d: Delivery): void {
    if (!conn.alive) return;
    const checkDup = this.overlap.active;
    const base = checkDup ? payloadKey(d.tenant, d.channel, d.payload) : '';
    for (const pattern of d.patterns) {
      const entry = this.entries.get(key(d.tenant, pattern));
      if (entry === undefined) continue; // unsubscribed meanwhile
      if (checkDup && !this.overlap.accept(conn, `${pattern}\u0000${base}`)) {
        this.stats.duplicatesDropped++;
        continue;
      }
      const message: Message = { tenant: d.tenant, channel: d.channel, payload: d.payload, pattern };
      for (const s of entry.subs) s.push(message);
    }
  }

  private onSubscribed(conn: Conn, tenant: string, pattern: string): void {
    const k = key(tenant, pattern);
    if (conn.refused.delete(k)) return;
    const entry = this.entries.get(k);
    if (entry === undefined) return;
    conn.confirmed.add(k);
    if (conn.awaiting.delete(k) && conn.awaiting.size === 0) conn.allConfirmed?.();
    if (conn === this.active) {
      for (const w of entry.waiters) w.resolve();
      entry.waiters.clear();
    }
  }

  private onPong(conn: Conn): void {
    if (conn.pingSentAt === undefined) return;
    const rttMs = performance.now() - conn.pingSentAt;
    conn.pingSentAt = undefined;
    if (conn !== this.active) return;
    this.rttMs = rttMs;
    this.events.emit('rtt', { rttMs });
    if (this.opts.ping !== false) this.schedulePing(conn, this.opts.ping.intervalMs);
  }

  private schedulePing(conn: Conn, delayMs: number): void {
    const ping = this.opts.ping;
    if (ping === false) return;
    clearTimeout(conn.pingTimer);
    conn.pingTimer = setTimeout(() => {
      if (!conn.alive || conn !== this.active) return;
      conn.pingSentAt = performance.now();
      conn.link?.ping();
      conn.pingTimer = setTimeout(() => {
        // No PONG in time: treat the connection as lost (contract §4: dropped after 10 s).
        if (conn.alive) this.onConnClosed(conn, new ClientError('timeout', `no PONG within ${ping.timeoutMs} ms`));
      }, ping.timeoutMs);
    }, delayMs);
  }

  private onServerError(conn: Conn, code: string, detail: string | undefined): void {
    // A refused SUB is `ERR:{code}:SUB:{tenant}:{pattern}` (permission_denied, invalid_pattern,
    // too_many_subscriptions, …), followed by an inert OK:SUB (contract §11.8) that finds no entry.
    if (detail?.startsWith('SUB:') && SUB_REFUSAL_CODES.has(code)) {
      const rest = detail.slice(4);
      const i = rest.indexOf(':');
      if (i >= 0) conn.refused.add(key(rest.slice(0, i), rest.slice(i + 1)));
      const entry = i < 0 ? undefined : this.entries.get(key(rest.slice(0, i), rest.slice(i + 1)));
      const retryWithNewToken = code === 'token_expired' && this.tokenProvider !== undefined;
      // An expired token is refreshed below and the subscription re-sent on the new connection.
      if (entry !== undefined && !retryWithNewToken) {
        return this.failEntry(entry, new ClientError('server', `subscription ${entry.tenant}:${entry.pattern} refused (${code})`, { serverCode: code, detail }));
      }
    }
    if (code === 'token_expired' && conn === this.active && this.tokenProvider !== undefined) {
      void this.refreshToken('expired').then(() => this.migrate(), () => {});
    }
    this.events.emit('error', new ClientError('server', `edge error: ${code}${detail === undefined ? '' : `: ${detail}`}`, { serverCode: code, detail }));
  }

  private failEntry(entry: Entry, error: ClientError): void {
    const k = key(entry.tenant, entry.pattern);
    this.entries.delete(k);
    for (const w of entry.waiters) w.reject(error);
    for (const s of entry.subs) s.end(error);
    for (const c of this.conns) {
      c.confirmed.delete(k);
      if (c.awaiting.delete(k) && c.awaiting.size === 0) c.allConfirmed?.();
    }
  }

  // ---- tokens ------------------------------------------------------------------------------

  private refreshToken(reason: TokenReason): Promise<void> {
    const provider = this.tokenProvider;
    if (provider === undefined) return Promise.reject(new ClientError('token_provider', 'no tokenProvider to refresh the token'));
    if (this.tokenRefresh !== undefined) return this.tokenRefresh;
    this.tokenRefresh = (async () => {
      try {
        const got = await provider({ reason, signal: this.closeAc.signal });
        const token = typeof got === 'string' ? got : got.token;
        if (typeof token !== 'string' || token === '') throw new Error('the provider returned no token');
        this.token = token;
        this.tokenExpiresAt = typeof got === 'string' ? undefined : toEpochMs(got.expiresAt);
        this.events.emit('token', { expiresAt: this.tokenExpiresAt, reason });
        this.scheduleTokenRefresh();
      } catch (err) {
        const e = err instanceof ClientError ? err : new ClientError('token_provider', `tokenProvider failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        if (this.state !== 'closed') this.events.emit('error', e);
        throw e;
      } finally {
        this.tokenRefresh = undefined;
      }
    })();
    return this.tokenRefresh;
  }

  private scheduleTokenRefresh(): void {
    clearTimeout(this.tokenTimer);
    const expiresAt = this.tokenExpiresAt;
    if (expiresAt === undefined || this.tokenProvider === undefined || this.state === 'closed') return;
    const remaining = expiresAt - Date.now();
    const margin = Math.min(this.opts.tokenRefreshMarginMs, Math.max(0, remaining / 2));
    this.tokenTimer = setTimeout(() => {
      this.refreshToken(remaining - margin > 0 ? 'expiring' : 'expired').then(
        () => {
          if (this.active !== undefined) this.migrate();
        },
        () => {
          // Try again shortly; the current connection keeps working (contract §10.4).
          if (this.state !== 'closed') this.tokenTimer = setTimeout(() => this.scheduleTokenRefresh(), 2000);
        },
      );
    }, Math.max(0, Math.min(remaining - margin, 2 ** 31 - 1)));
  }

  // ---- application API ---------------------------------------------------------------------

  publish(tenant: string, channel: string, payload: Uint8Array | string, options?: PublishOptions): void {
    if (this.state === 'closed') throw new ClientError('closed', 'client closed');
    const bytes = typeof payload === 'string' ? textEncoder.encode(payload) : payload;
    const mode = options?.delivery ?? 'broadcast';
    try {
      validateTenant(tenant);
      validateChannel(channel);
    } catch (err) {
      throw badArgument(err);
    }
    if (bytes.length > MAX_PAYLOAD) throw new ClientError('bad_argument', `payload is ${bytes.length} bytes, more than ${MAX_PAYLOAD}`);
    if (mode !== 'broadcast' && mode !== 'one-low-latency' && mode !== 'one-random') throw new ClientError('bad_argument', `unknown delivery ${String(mode)}`);
    const conn = this.active;
    if (conn !== undefined && conn.alive) this.send(conn, tenant, channel, bytes, mode);
    else this.queue.push({ tenant, channel, payload: bytes, mode });
  }

  private send(conn: Conn, tenant: string, channel: string, payload: Uint8Array, mode: DeliveryMode): void {
    conn.link!.publish(tenant, channel, payload, mode);
    this.stats.published++;
  }

  async subscribe(tenant: string, pattern: string, options: SubscribeOptions = {}): Promise<Subscription> {
    if (options.meshReady === true) return this.subscribeMeshReady(tenant, pattern, options);
    if (this.state === 'closed') throw new ClientError('closed', 'client closed');
    try {
      validateTenant(tenant);
      validatePattern(pattern);
    } catch (err) {
      throw badArgument(err);
    }
    if (options.signal?.aborted) throw abortError(options.signal);
    const k = key(tenant, pattern);
    let entry = this.entries.get(k);
    const fresh = entry === undefined;
    if (entry === undefined) {
      entry = { tenant, pattern, subs: new Set(), waiters: new Set() };
      this.entries.set(k, entry);
    }
    const sub = new SubscriptionImpl(tenant, pattern, {
      bufferSize: this.opts.subscriptionBuffer.size,
      overflow: this.opts.subscriptionBuffer.overflow,
      ...options,
    }, (s) => this.removeSub(s));
    entry.subs.add(sub);
    if (fresh) {
      for (const c of this.conns) {
        if (c.role === 'draining') continue;
        if (c.role === 'pending') c.awaiting.add(k);
        c.refused.delete(k);
        c.link?.subscribe(tenant, pattern);
      }
    }
    if (this.active?.confirmed.has(k)) return sub;
    const e = entry;
    let w: { resolve: () => void; reject: (e: Error) => void } | undefined;
    try {
      await withSignal(
        new Promise<void>((resolve, reject) => {
          w = { resolve, reject };
          e.waiters.add(w);
        }),
        options.signal,
      );
    } catch (err) {
      if (w !== undefined) e.waiters.delete(w);
      await sub.unsubscribe();
      throw err;
    }
    return sub;
  }

  /** subscribe(), then wait until the edge confirms the whole mesh routes the pattern to it. */
  private async subscribeMeshReady(tenant: string, pattern: string, options: SubscribeOptions): Promise<Subscription> {
    const sub = await this.subscribe(tenant, pattern, { ...options, meshReady: false });
    const conn = this.active;
    try {
      if (conn?.link?.meshReady === undefined) {
        throw new ClientError('bad_argument', `meshReady needs a connected transport that supports it (${this.transport.name} does not)`);
      }
      const waiting = this.meshReady.wait(conn, tenant, pattern, options.meshReadyTimeoutMs ?? 10_000);
      waiting.catch(() => undefined); // settled later by its timer if the signal wins the race
      conn.link.meshReady(tenant, pattern);
      await withSignal(waiting, options.signal);
    } catch (err) {
      await sub.unsubscribe();
      throw err;
    }
    return sub;
  }

  private removeSub(sub: SubscriptionImpl): void {
    const k = key(sub.tenant, sub.pattern);
    const entry = this.entries.get(k);
    if (entry === undefined || !entry.subs.delete(sub) || entry.subs.size > 0) return;
    this.entries.delete(k);
    for (const w of entry.waiters) w.reject(new ClientError('closed', 'unsubscribed'));
    for (const c of this.conns) {
      c.confirmed.delete(k);
      if (c.awaiting.delete(k) && c.awaiting.size === 0) c.allConfirmed?.();
      if (c.role !== 'draining') c.link?.unsubscribe(sub.tenant, sub.pattern);
    }
  }

  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal;
    while (this.state !== 'closed') {
      const conn = this.active;
      if (this.queue.size === 0 && conn !== undefined && this.bufferedAmount === 0) return;
      await sleep(5, signal);
    }
    throw new ClientError('closed', 'client closed');
  }
}
