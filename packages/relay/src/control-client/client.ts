// The PoP side of the control plane: holds the state a PoP needs to admit clients with no round
// trip (keys, revocations, refreshed expiries, limits), keeps it fresh through the control
// service's `GET /v1/watch` stream (JSON lines; snapshot first, then deltas) and caches it on
// disk, so a PoP restarted while the control plane is down still admits valid tokens. It also
// registers this PoP (heartbeat, lease-backed on the control side), reports usage, and forwards
// the contract's token REST calls to the control service.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, FpsError, type Logger } from '@fastpubsub/core';
import type { Admission, TenantUsage } from '../limits/admission.js';
import { SignedTicketState, SignedTicketVerifier } from '../auth/signed/verifier.js';
import type { HookCounts, PopRecord, PopState, WatchEvent } from '@fastpubsub/protocol';
import { controlFetch, type ControlFetch } from './transport.js';

export interface ControlClientOptions {
  /** Control service base URLs (several instances in etcd mode); tried in turn. */
  urls: string[];
  /** Bearer credential for the PoP calls (/v1/watch, /v1/pops/...). */
  token: string;
  /** PEM CA bundle that signs the control plane's HTTPS certificate (unset: the system CAs). */
  caFile?: string;
  popId: string;
  region: string;
  /** This PoP's public endpoints, published in the registry for discovery and the mesh. */
  advertise: () => { httpUrl: string; wsUrl: string; mesh?: string; meshId?: string };
  dataDir: string;
  admission: Admission;
  logger: Logger;
  now: () => number;
  heartbeatMs?: number;
  usageReportMs?: number;
  /** The watch stream is considered dead after this long without a line (the server pings). */
  staleMs?: number;
  /** Outbound webhook counts per hook (cumulative), reported with usage for the hooks' status. */
  hookCounts?: () => Record<string, HookCounts>;
}

const CACHE_FILE = 'control-state.json';

/** Defaults of the optional ControlClientOptions (the relay config documents the same). */
export const CONTROL_CLIENT_DEFAULTS = Object.freeze({ heartbeatMs: 2000, usageReportMs: 5000, staleMs: 6000 });

/** A PoP as the control plane's registry lists it. */
export type RegisteredPop = PopRecord;

export type TokenOp = 'issue' | 'refresh' | 'revoke';
const OP_ROUTE: Record<TokenOp, { method: string; path: string }> = {
  issue: { method: 'POST', path: '/v1/get-token' },
  refresh: { method: 'PUT', path: '/v1/refresh-token' },
  revoke: { method: 'DELETE', path: '/v1/revoke-token' },
};

export class ControlClient {
  readonly state = new SignedTicketState();
  readonly verifier: SignedTicketVerifier;
  readonly #o: ControlClientOptions;
  readonly #abort = new AbortController();
  readonly #http: { fetch: ControlFetch; close(): Promise<void> };
  readonly #tlsWarned = new Set<string>();
  #urlIndex = 0;
  #connected = false;
  #saving: Promise<void> = Promise.resolve();
  #saveTimer: NodeJS.Timeout | undefined;
  #timers: NodeJS.Timeout[] = [];
  #firstSnapshot: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #popId: string;
  /** Usage is reported as cumulative counters of this process (boot) per month. */
  readonly #boot = randomBytes(6).toString('hex');
  #month: string | undefined;
  #baseline: Record<string, TenantUsage> = {};
  #lastHookReport = '';

  constructor(opts: ControlClientOptions) {
    this.#o = opts;
    this.#popId = opts.popId;
    this.#http = controlFetch(opts.caFile);
    const adm = opts.admission;
    this.verifier = new SignedTicketVerifier({
      state: this.state,
      now: opts.now,
      admit: (_token, ctx, now) => {
        if (adm.admitConnectionAttempt(ctx.ip, now) !== 'ok') throw new FpsError(ErrorCode.RateLimited, 'too many connection attempts');
        return undefined;
      },
      afterVerify: (ticket, now) => {
        if (adm.openConnection(ticket.tenants, now) !== 'ok') throw new FpsError(ErrorCode.RateLimited, 'tenant connection limit reached');
        return () => adm.closeConnection(ticket.tenants, opts.now());
      },
    });
    this.state.onChange((ev) => {
      const now = opts.now();
      if (ev.type === 'snapshot') adm.setAllLimits(ev.state.limits, ev.state.overQuota, now);
      else if (ev.type === 'limits') adm.setLimits(ev.tenant, ev.limits, now);
      else if (ev.type === 'quota') adm.setOverQuota(ev.overQuota, now);
      this.#scheduleSave();
    });
  }

  /** True while the watch stream is up. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Loads the disk cache, starts watching, registering and reporting. Waits up to `waitMs` for
   * the first snapshot when there is no cache (with a cache, serving starts at once).
   */
  async start(waitMs = 3000): Promise<void> {
    const cached = await this.#loadCache();
    if (cached !== undefined) this.state.apply({ type: 'snapshot', state: cached });
    const first = new Promise<void>((resolve) => (this.#firstSnapshot = resolve));
    this.#loop = this.#watchLoop();
    const hb = this.heartbeatMs;
    this.#timers.push(setInterval(() => void this.#heartbeat(), hb));
    this.#timers.push(setInterval(() => void this.#reportUsage(), this.#o.usageReportMs ?? CONTROL_CLIENT_DEFAULTS.usageReportMs));
    this.#timers.push(setInterval(() => this.state.prune(this.#o.now()), 60_000));
    for (const t of this.#timers) t.unref();
    if (cached === undefined) {
      // Not unref'd: while the control plane is unreachable this timer is all that keeps the
      // process alive (the watch loop's retry timers are unref'd), and the relay must go on to listen.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([first, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
      clearTimeout(timer);
    }
  }

  /** Registers this PoP now (called once its address is known), optionally under a final id. */
  announce(popId?: string): void {
    if (popId !== undefined) this.#popId = popId;
    void this.#heartbeat();
  }

  get popId(): string {
    return this.#popId;
  }

  /** How often this PoP heartbeats its registration (the registry is re-read as often). */
  get heartbeatMs(): number {
    return this.#o.heartbeatMs ?? CONTROL_CLIENT_DEFAULTS.heartbeatMs;
  }

  /** The PoP registry (lease-backed), for discovering peers; rejects with store_unavailable if unreachable. */
  async listPops(): Promise<RegisteredPop[]> {
    const res = await this.#request('GET', '/v1/pops', { timeoutMs: 3000 });
    if (res.status !== 200) throw new FpsError(ErrorCode.StoreUnavailable, `control plane answered ${res.status}`);
    return ((await res.json()) as { pops: RegisteredPop[] }).pops;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    await this.#reportUsage(1000).catch(() => undefined); // the last counts, before the abort
    this.#abort.abort();
    await this.#loop?.catch(() => undefined);
    if (this.#saveTimer !== undefined) {
      clearTimeout(this.#saveTimer);
      this.#saveTimer = undefined;
      this.#save();
    }
    await this.#saving;
    await this.#http.close().catch(() => undefined);
  }

  /**
   * Forwards a contract token call with the caller's Authorization header to the control
   * service; its status and error code come back as an FpsError. Unreachable: store_unavailable.
   */
  async forwardToken(op: TokenOp, authorization: string | undefined, body: unknown): Promise<object> {
    const { method, path } = OP_ROUTE[op];
    // Always the caller's credential, never the PoP's own: no header must stay 401, not become a PoP call.
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: authorization ?? '' };
    const res = await this.#request(method, path, { headers, body: JSON.stringify(body), timeoutMs: 5000 });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.status >= 200 && res.status < 300 && typeof json === 'object' && json !== null) return json;
    const e = (json ?? {}) as { error?: unknown; message?: unknown };
    const code = (Object.values(ErrorCode) as string[]).includes(String(e.error)) ? (e.error as ErrorCode) : ErrorCode.Internal;
    throw new FpsError(code, typeof e.message === 'string' ? e.message : `control plane answered ${res.status}`);
  }

  /** One request to the first control URL that answers; rotates on network errors. */
  async #request(method: string, path: string, init: { headers?: Record<string, string>; body?: string; timeoutMs: number }): Promise<Response> {
    const urls = this.#o.urls;
    let lastErr: unknown;
    for (let i = 0; i < urls.length; i++) {
      const base = urls[(this.#urlIndex + i) % urls.length] as string;
      try {
        const res = await this.#http.fetch(base.replace(/\/$/, '') + path, {
          method,
          headers: { authorization: `Bearer ${this.#o.token}`, ...init.headers },
          ...(init.body === undefined ? {} : { body: init.body }),
          signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(init.timeoutMs)]),
        });
        this.#urlIndex = (this.#urlIndex + i) % urls.length;
        return res;
      } catch (err) {
        lastErr = err;
        if (this.#abort.signal.aborted) break;
      }
    }
    throw new FpsError(ErrorCode.StoreUnavailable, 'control plane unreachable', { cause: lastErr });
  }

  async #heartbeat(): Promise<void> {
    const a = this.#o.advertise();
    try {
      const res = await this.#request('PUT', `/v1/pops/${encodeURIComponent(this.#popId)}`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ region: this.#o.region, ...a }),
        timeoutMs: 2000,
      });
      await res.arrayBuffer();
    } catch {
      // Unreachable control plane: keep serving; the lease lapses and we re-register later.
    }
  }

  async #reportUsage(timeoutMs = 2000): Promise<void> {
    await this.#reportHookCounts(timeoutMs);
    const now = this.#o.now();
    const cumulative = this.#o.admission.usage(now);
    const month = new Date(now).toISOString().slice(0, 7);
    if (month !== this.#month) {
      if (this.#month !== undefined) this.#baseline = cumulative; // a new month starts from zero
      this.#month = month;
    }
    const usage: Record<string, TenantUsage> = {};
    for (const [t, u] of Object.entries(cumulative)) {
      const b = this.#baseline[t];
      usage[t] = b === undefined ? u : { messages: u.messages - b.messages, bytes: u.bytes - b.bytes, connectionMs: u.connectionMs - b.connectionMs };
    }
    if (Object.keys(usage).length === 0) return;
    try {
      const res = await this.#request('POST', `/v1/pops/${encodeURIComponent(this.#popId)}/usage`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ boot: this.#boot, month, usage }),
        timeoutMs,
      });
      await res.arrayBuffer();
    } catch {
      // Cumulative counters: the next report carries everything.
    }
  }

  /** Cumulative per hook and boot, sent only when they changed. */
  async #reportHookCounts(timeoutMs: number): Promise<void> {
    const hooks = this.#o.hookCounts?.() ?? {};
    const text = JSON.stringify({ boot: this.#boot, hooks });
    if (Object.keys(hooks).length === 0 || text === this.#lastHookReport) return;
    try {
      const res = await this.#request('POST', `/v1/pops/${encodeURIComponent(this.#popId)}/hook-stats`, {
        headers: { 'content-type': 'application/json' },
        body: text,
        timeoutMs,
      });
      await res.arrayBuffer();
      if (res.status === 200) this.#lastHookReport = text;
    } catch {
      // Cumulative counters: the next report carries everything.
    }
  }

  /** A certificate the relay cannot verify is a setup error, not an outage: say so once per cause. */
  #warnIfUntrusted(err: unknown): void {
    const code = (err as { cause?: { code?: unknown } }).cause?.code;
    if (typeof code !== 'string' || !/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code) || this.#tlsWarned.has(code)) return;
    this.#tlsWarned.add(code);
    this.#o.logger.warn('control plane certificate not trusted; set control.caFile to the CA that signed it', { code, urls: this.#o.urls });
  }

  async #watchLoop(): Promise<void> {
    let backoff = 100;
    while (!this.#abort.signal.aborted) {
      const started = Date.now();
      try {
        await this.#watchOnce();
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        this.#o.logger.debug('control watch ended', { err });
        this.#warnIfUntrusted(err);
      }
      if (this.#connected) this.#o.logger.warn('control plane watch lost; serving with the last known state');
      this.#connected = false;
      this.#urlIndex = (this.#urlIndex + 1) % this.#o.urls.length;
      if (Date.now() - started > 5000) backoff = 100;
      await new Promise((r) => setTimeout(r, backoff).unref());
      backoff = Math.min(1000, backoff * 2);
    }
  }

  async #watchOnce(): Promise<void> {
    const stale = this.#o.staleMs ?? CONTROL_CLIENT_DEFAULTS.staleMs;
    const local = new AbortController();
    const signal = AbortSignal.any([this.#abort.signal, local.signal]);
    const base = this.#o.urls[this.#urlIndex % this.#o.urls.length] as string;
    let timer = setTimeout(() => local.abort(), stale);
    try {
      const res = await this.#http.fetch(`${base.replace(/\/$/, '')}/v1/watch?pop=${encodeURIComponent(this.#popId)}`, {
        headers: { authorization: `Bearer ${this.#o.token}` },
        signal,
      });
      if (res.status !== 200 || res.body === null) {
        await res.arrayBuffer().catch(() => undefined);
        throw new Error(`watch answered ${res.status}`);
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(timer);
        timer = setTimeout(() => local.abort(), stale);
        buf += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim() !== '') this.#onLine(line);
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  #onLine(line: string): void {
    let ev: WatchEvent;
    try {
      ev = JSON.parse(line) as WatchEvent;
    } catch {
      this.#o.logger.warn('control watch: bad line skipped');
      return;
    }
    if (ev.type === 'snapshot') {
      if (!this.#connected) this.#o.logger.info('control plane watch established', { rev: ev.state.rev });
      this.#connected = true;
      this.state.apply(ev);
      this.#firstSnapshot?.();
      this.#firstSnapshot = undefined;
      return;
    }
    this.state.apply(ev);
  }

  async #loadCache(): Promise<PopState | undefined> {
    try {
      const s = JSON.parse(await readFile(join(this.#o.dataDir, CACHE_FILE), 'utf8')) as PopState;
      return Array.isArray(s.keys) && Array.isArray(s.revoked) ? s : undefined;
    } catch {
      return undefined;
    }
  }

  #scheduleSave(): void {
    if (this.#saveTimer !== undefined) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#save();
    }, 50);
    this.#saveTimer.unref();
  }

  /** temp + fsync + rename: the cache is always a complete old or new file. */
  #save(): void {
    const text = JSON.stringify(this.state.toState());
    const dir = this.#o.dataDir;
    this.#saving = this.#saving.then(async () => {
      try {
        await mkdir(dir, { recursive: true });
        const tmp = join(dir, `${CACHE_FILE}.tmp`);
        const h = await open(tmp, 'w', 0o600); // it holds webhook secrets
        try {
          await h.writeFile(text, 'utf8');
          await h.sync();
        } finally {
          await h.close();
        }
        await rename(tmp, join(dir, CACHE_FILE));
      } catch (err) {
        this.#o.logger.warn('control state cache not written', { err });
      }
    });
  }
}
