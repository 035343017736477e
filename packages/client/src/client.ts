// The client core: connection lifecycle, make-before-break reconnect (contract v0.1 §6), overlap
// duplicate suppression and the publish queue. Parts: subscription table, token keeper, heartbeat,
// reconnect loop, ERR handling, flush, argument checks, presence query; talks to ./transport.ts only.
import { checkPresenceChannel, checkTenantChannel, checkTenantPattern, publishArguments } from './arguments.js';
import { Emitter } from './emitter.js';
import { MeshReadyWaiters } from './mesh-ready.js';
import { ClientError, abortError, withSignal } from './errors.js';
import { EdgePicker, type Edge } from './endpoint.js';
import { OverlapFilter, payloadKey } from './dedupe.js';
import { resolveOptions, type ConnectOptions, type ResolvedOptions, type TokenProvider, type TokenReason } from './options.js';
import { SubscriptionImpl, type Message, type SubscribeOptions, type Subscription } from './subscription.js';
import type { Delivery, DeliveryMode, Transport, TransportName } from './transport.js';
import { PublishQueue } from './queue.js';
import { Conn } from './conn.js';
import { Heartbeat } from './heartbeat.js';
import { SubscriptionTable, subKey as key, type Waiter } from './subscription-table.js';
import { TokenKeeper } from './token-keeper.js';
import { PresenceKeeper, type PresencePage } from './presence.js';
import { fetchPresencePage } from './presence-rest.js';
import { reconnectLoop } from './reconnect.js';
import { waitFlushed } from './flush.js';
import { handleServerError } from './server-error.js';
import type { Client, ClientEvents, ClientState, ClientStats, PublishOptions } from './api.js';

export type { Client, ClientEvents, ClientState, ClientStats, PublishOptions } from './api.js';

export class ClientImpl implements Client {
  state: ClientState = 'connecting';
  rttMs: number | undefined;
  edge: Edge | undefined;
  readonly stats: ClientStats = { published: 0, queued: 0, queueDropped: 0, duplicatesDropped: 0, reconnects: 0 };
  /** What carries the active connection (undefined while none is open). */
  get transport(): TransportName | undefined { return this.active?.link === undefined ? undefined : (this.active.link.transport ?? 'websocket'); }

  private readonly events = new Emitter<ClientEvents>();
  private readonly opts: ResolvedOptions;
  private readonly entries = new SubscriptionTable();
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
  private readonly edges: EdgePicker;
  private readonly tokens: TokenKeeper;
  private readonly tokenProvider: TokenProvider | undefined;
  private everConnected = false;
  private readonly presenceKeeper = new PresenceKeeper(`c-${Math.random().toString(36).slice(2, 12)}${Date.now().toString(36)}`);

  constructor(
    options: ConnectOptions,
    private readonly carrier: Transport,
  ) {
    this.opts = resolveOptions(options);
    this.queue = new PublishQueue(this.opts.queue.maxMessages, this.opts.queue.policy, this.stats);
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.tokenProvider = options.tokenProvider;
    this.tokens = new TokenKeeper({
      token: options.token,
      expiresAt: options.tokenExpiresAt,
      provider: options.tokenProvider,
      refreshMarginMs: this.opts.tokenRefreshMarginMs,
      clock: this.opts.clock,
      signal: this.closeAc.signal,
      onToken: (e) => this.events.emit('token', e),
      onError: (e) => this.events.emit('error', e),
      onScheduledRefresh: () => {
        if (this.active !== undefined) this.migrate();
      },
    });
    if (options.token === undefined && this.tokenProvider === undefined) throw new ClientError('bad_argument', 'connect() needs a token or a tokenProvider');
    this.edges = new EdgePicker(options);
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
      if (this.tokens.token === undefined) await this.refreshToken('initial');
      else this.tokens.schedule();
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
    this.tokens.stop();
    for (const c of [...this.conns]) this.dropConn(c);
    this.entries.endAll(error);
    this.queue.clear();
    this.events.emit('closed', { error });
    this.resolveClosed(error);
  }

  // ---- connections -----------------------------------------------------------------------

  private pickEdge(reselect: boolean): Promise<Edge> {
    return this.edges.pick(reselect, this.edge, this.closeAc.signal);
  }

  /** Opens a connection, sends every SUB and resolves once every OK:SUB arrived. */
  private async openAndSubscribe(reselect: boolean): Promise<Conn> {
    const edge = await this.pickEdge(reselect);
    if (this.tokens.token === undefined) await this.refreshToken('initial');
    const conn = new Conn(edge);
    const link = await this.carrier.open({
      edge,
      token: this.tokens.token!,
      signal: this.closeAc.signal,
      timeoutMs: this.opts.openTimeoutMs,
      events: {
        onDelivery: (d) => this.onDelivery(conn, d),
        onSubscribed: (t, p) => this.onSubscribed(conn, t, p),
        onUnsubscribed: () => {},
        onSuperseded: (t, p, n) => this.entries.get(t, p)?.subs.forEach((s) => (s.stats.superseded += n)),
        onPong: () => this.onPong(conn),
        onMeshReady: (t, p, complete) => this.meshReady.answer(conn, t, p, complete),
        onServerError: (code, detail) => this.onServerError(conn, code, detail),
        onReconnectRequested: () => {
          if (conn === this.active) this.migrate();
        },
        onPresence: (line) => {
          if (conn === this.active) this.presenceKeeper.dispatch(line);
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
      link.subscribe(e.tenant, e.pattern, { latest: e.latest });
    }
    for (const line of this.presenceKeeper.replay()) link.presence?.(line);
    try {
      await conn.confirmations(this.opts.resubscribeTimeoutMs, this.opts.clock, this.closeAc.signal);
    } catch (err) {
      this.dropConn(conn);
      throw err;
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
      old.heartbeat?.stop();
      old.drainTimer = this.opts.clock.setTimeout(() => this.dropConn(old), this.opts.reconnect.overlapMs);
    }
    this.entries.activated(conn);
    this.setState('connected');
    this.events.emit('connected', { edge: conn.edge, migration });
    this.queue.drain((m) => this.send(conn, m.tenant, m.channel, m.payload, m.mode));
    this.schedulePing(conn, 0);
  }

  private dropConn(conn: Conn): void {
    if (!conn.alive) return;
    conn.alive = false;
    conn.heartbeat?.stop();
    this.opts.clock.clearTimeout(conn.drainTimer);
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
    this.loop = reconnectLoop({
      reconnect: this.opts.reconnect,
      clock: this.opts.clock,
      signal: this.closeAc.signal,
      canRefreshToken: this.tokenProvider !== undefined,
      isClosed: () => this.isClosed(),
      hasActive: () => this.active !== undefined,
      openAndSubscribe: (reselect) => this.openAndSubscribe(reselect),
      switchTo: (conn) => this.switchTo(conn),
      refreshToken: (reason) => this.refreshToken(reason),
      shutdown: (error) => this.shutdown(error),
      onRetry: (e) => this.events.emit('reconnecting', e),
    }).finally(() => (this.loop = undefined));
  }

  // ---- frames from the edge ----------------------------------------------------------------

  private onDelivery(conn: Conn, d: Delivery): void {
    if (!conn.alive) return;
    const checkDup = this.overlap.active;
    const base = checkDup ? payloadKey(d.tenant, d.channel, d.payload) : '';
    for (const pattern of d.patterns) {
      const entry = this.entries.get(d.tenant, pattern);
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
    // The inert OK:SUB that follows a refusal (contract §11.8) confirms nothing.
    if (conn.refused.delete(key(tenant, pattern))) return;
    this.entries.confirm(conn, tenant, pattern, conn === this.active);
  }

  private onPong(conn: Conn): void {
    const rttMs = conn.heartbeat?.pong();
    if (rttMs === undefined || conn !== this.active) return;
    this.rttMs = rttMs;
    this.events.emit('rtt', { rttMs });
    conn.heartbeat?.schedule();
  }

  private schedulePing(conn: Conn, delayMs: number): void {
    const ping = this.opts.ping;
    if (ping === false) return;
    conn.heartbeat ??= new Heartbeat(
      ping,
      () => {
        if (!conn.alive || conn !== this.active) return false;
        conn.link?.ping();
        return true;
      },
      (error) => {
        if (conn.alive) this.onConnClosed(conn, error);
      },
      this.opts.clock,
    );
    conn.heartbeat.schedule(delayMs);
  }

  private onServerError(conn: Conn, code: string, detail: string | undefined): void {
    handleServerError({
      canRefreshToken: this.tokenProvider !== undefined,
      entryOf: (tenant, pattern) => this.entries.get(tenant, pattern),
      isActive: (c) => c === this.active,
      failEntry: (entry, error) => this.entries.fail(entry, error, this.conns),
      refreshExpiredToken: () => void this.refreshToken('expired').then(() => this.migrate(), () => {}),
      emitError: (error) => this.events.emit('error', error),
    }, conn, code, detail);
  }

  // ---- tokens ------------------------------------------------------------------------------

  private refreshToken(reason: TokenReason): Promise<void> {
    return this.tokens.refresh(reason);
  }

  // ---- application API ---------------------------------------------------------------------

  publish(tenant: string, channel: string, payload: Uint8Array | string, options?: PublishOptions): void {
    if (this.state === 'closed') throw new ClientError('closed', 'client closed');
    const { bytes, mode } = publishArguments(tenant, channel, payload, options);
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
    checkTenantPattern(tenant, pattern);
    if (options.signal?.aborted) throw abortError(options.signal);
    const k = key(tenant, pattern);
    const sub = new SubscriptionImpl(tenant, pattern, {
      bufferSize: this.opts.subscriptionBuffer.size,
      overflow: this.opts.subscriptionBuffer.overflow,
      ...options,
    }, (s) => this.removeSub(s));
    const wantsPresence = options.presence !== undefined || options.onPresence !== undefined;
    if (wantsPresence) checkPresenceChannel(pattern);
    const { entry, fresh } = this.entries.add(sub);
    if (fresh) {
      for (const c of this.conns) {
        if (c.role === 'draining') continue;
        if (c.role === 'pending') c.awaiting.add(k);
        c.refused.delete(k);
        c.link?.subscribe(tenant, pattern, { latest: entry.latest });
      }
    }
    if (wantsPresence) {
      const lines = this.presenceKeeper.add(tenant, pattern, sub, options.presence, options.onPresence);
      for (const c of this.conns) if (c.role !== 'draining') for (const line of lines) c.link?.presence?.(line);
      sub.presenceWatcher = options.onPresence;
    }
    if (this.active?.confirmed.has(k)) return sub;
    const e = entry;
    let w: Waiter | undefined;
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
        throw new ClientError('bad_argument', `meshReady needs a connected transport that supports it (${this.carrier.name} does not)`);
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
    const lines = this.presenceKeeper.remove(sub.tenant, sub.pattern, sub, sub.presenceWatcher);
    for (const c of this.conns) if (c.role !== 'draining') for (const line of lines) c.link?.presence?.(line);
    if (this.entries.remove(sub, this.conns) === undefined) return;
    for (const c of this.conns) if (c.role !== 'draining') c.link?.unsubscribe(sub.tenant, sub.pattern);
  }

  /** Who is present in a channel, mesh-wide: REST GET /v1/presence on the current edge, with the client's token. */
  async presence(tenant: string, channel: string, options: { limit?: number; after?: string; signal?: AbortSignal } = {}): Promise<PresencePage> {
    checkTenantChannel(tenant, channel);
    const edge = this.edge ?? (await this.pickEdge(false));
    if (this.tokens.token === undefined) await this.refreshToken('initial');
    return fetchPresencePage(edge.httpUrl, this.tokens.token!, tenant, channel, options);
  }

  /** Resolves once every publish so far is on its way to the network (see ./flush.ts). */
  flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    return waitFlushed(
      {
        closed: this.closeAc.signal,
        link: () => this.active?.link,
        queued: () => this.queue.size,
        onConnected: (listener) => this.events.on('connected', listener),
      },
      options.signal,
    );
  }
}
