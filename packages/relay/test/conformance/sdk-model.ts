// A contract client written from contract v0.1 §6 and §11.8 alone: the WebSocket subscription
// and make-before-break reconnect behaviour of the public SDK (0.3.1–0.3.4), over a raw
// WebSocket. It is the client the relay must never leave stuck:
// - subscribe() stores the pair and sends SUB on every open connection, without waiting;
// - on RECONNECT (honoured on the active connection only, one candidate at a time) or on the
//   loss of the active connection it opens a candidate to the same URL (a refused upgrade is
//   retried every second), re-sends every stored SUB and switches only once each has an OK:SUB
//   on that connection; ERR, OK:UNSUB and silence clear nothing;
// - after switching it reads the old connection `overlapMs` more (dropping repeats of the same
//   tenant, channel and payload), then closes it without UNSUB;
// - if a candidate closes before it switched, it gives up for good (the client is dead).
import WebSocket from 'ws';
import { decodeDelivery, encodePublishV1, type Delivery } from '@fastpubsub/testkit/relay';

export interface ModelOptions {
  /** How long the old connection is read after a switch (the SDK: 5000 ms). */
  overlapMs?: number;
  /** Delay between refused candidate upgrades (the SDK: 1000 ms). */
  retryMs?: number;
  /** Bound on candidate attempts per reconnect, so a test cannot hang. */
  maxAttempts?: number;
}

export interface ModelDelivery extends Delivery {
  connId: number;
}

export type ModelEvent =
  | { kind: 'reconnect_requested'; atMs: number; connId: number }
  | { kind: 'connection_lost'; atMs: number; connId: number }
  | { kind: 'reconnect_ready'; atMs: number; connId: number }
  | { kind: 'old_closed'; atMs: number; connId: number }
  | { kind: 'error'; atMs: number; text: string }
  | { kind: 'publish_failed'; atMs: number }
  | { kind: 'dead'; atMs: number; reason: string };

interface Conn {
  id: number;
  ws: WebSocket;
  /** Stored subscriptions still without an OK:SUB on this connection (candidates only). */
  awaiting: Set<string>;
}

const pairKey = (tenant: string, pattern: string): string => `${tenant}:${pattern}`;

/** `OK:SUB:{t}:{p}` with the optional `:U:{1–8}` suffix of 0.3.4, trimmed as the SDK does. */
function parseOkSub(text: string): string | undefined {
  if (!text.startsWith('OK:SUB:')) return undefined;
  let body = text.slice('OK:SUB:'.length);
  const u = body.lastIndexOf(':U:');
  if (u >= 0 && /^[1-8]$/.test(body.slice(u + 3))) body = body.slice(0, u);
  const i = body.indexOf(':');
  if (i < 0) return undefined;
  return pairKey(body.slice(0, i).trim(), body.slice(i + 1).trim());
}

export class ContractModelClient {
  readonly events: ModelEvent[] = [];
  readonly deliveries: ModelDelivery[] = [];
  readonly #url: string;
  readonly #token: string;
  readonly #overlapMs: number;
  readonly #retryMs: number;
  readonly #maxAttempts: number;
  readonly #subs = new Map<string, { tenant: string; pattern: string }>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #open = new Set<Conn>();
  #active: Conn | undefined;
  #candidate: Conn | undefined;
  #reconnecting = false;
  #overlapUntilMs = 0;
  #recent = new Set<string>();
  #nextId = 1;
  #stopped = false;

  constructor(url: string, token: string, opts: ModelOptions = {}) {
    this.#url = url;
    this.#token = token;
    this.#overlapMs = opts.overlapMs ?? 5000;
    this.#retryMs = opts.retryMs ?? 1000;
    this.#maxAttempts = opts.maxAttempts ?? 30;
  }

  get activeConnId(): number | undefined {
    return this.#active?.id;
  }

  get openConnections(): number {
    return this.#open.size;
  }

  /** The first connection (build()): fails on a refused upgrade, as the SDK's build() does. */
  async start(): Promise<void> {
    this.#active = await this.#connect();
  }

  subscribe(tenant: string, pattern: string): void {
    this.#subs.set(pairKey(tenant, pattern), { tenant, pattern });
    for (const c of this.#open) c.ws.send(`SUB:${tenant}:${pattern}`);
  }

  /** Publishes on the active connection; with none, the failure is only an event (as in the SDK). */
  publish(tenant: string, channel: string, payload: string): void {
    const a = this.#active;
    if (a === undefined || a.ws.readyState !== WebSocket.OPEN) {
      this.#event({ kind: 'publish_failed', atMs: Date.now() });
      return;
    }
    a.ws.send(encodePublishV1(tenant, channel, payload), { binary: true });
  }

  countEvents(kind: ModelEvent['kind']): number {
    return this.events.filter((e) => e.kind === kind).length;
  }

  deliveriesOf(pattern: string): ModelDelivery[] {
    return this.deliveries.filter((d) => d.patterns.includes(pattern));
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const c of this.#open) c.ws.terminate();
    this.#open.clear();
  }

  #event(e: ModelEvent): void {
    this.events.push(e);
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #connect(): Promise<Conn> {
    const ws = new WebSocket(this.#url, ['llps.v1', `at.${this.#token}`], { perMessageDeflate: false, handshakeTimeout: 3000 });
    const conn: Conn = { id: this.#nextId++, ws, awaiting: new Set() };
    ws.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new Error(`upgrade refused with HTTP ${res.statusCode ?? '?'}`));
      });
      ws.once('close', () => reject(new Error('closed before open')));
      ws.once('open', () => {
        ws.removeAllListeners('close');
        this.#open.add(conn);
        ws.on('message', (data: Buffer, binary: boolean) => this.#onMessage(conn, data, binary));
        ws.on('close', () => this.#onClose(conn));
        resolve(conn);
      });
    });
  }

  #onMessage(conn: Conn, data: Buffer, binary: boolean): void {
    if (binary) return this.#onDelivery(conn, data);
    const text = data.toString('utf8');
    if (text === 'RECONNECT') {
      if (conn === this.#active) {
        this.#event({ kind: 'reconnect_requested', atMs: Date.now(), connId: conn.id });
        this.#reconnect();
      }
      return;
    }
    if (text.startsWith('ERR:')) return this.#event({ kind: 'error', atMs: Date.now(), text });
    const ok = parseOkSub(text);
    if (ok === undefined || conn !== this.#candidate) return;
    if (!this.#subs.has(ok)) return;
    conn.awaiting.delete(ok);
    if (conn.awaiting.size === 0) this.#switchTo(conn);
  }

  #onDelivery(conn: Conn, data: Buffer): void {
    let d: Delivery;
    try {
      d = decodeDelivery(data);
    } catch {
      return; // the SDK drops frames that do not decode
    }
    if (Date.now() < this.#overlapUntilMs) {
      const k = `${d.tenant}\0${d.channel}\0${d.payload.toString('hex')}`;
      if (this.#recent.has(k)) return;
      this.#recent.add(k);
    }
    this.deliveries.push({ ...d, connId: conn.id });
  }

  #onClose(conn: Conn): void {
    this.#open.delete(conn);
    if (this.#stopped) return;
    if (conn === this.#candidate) {
      this.#candidate = undefined;
      this.#event({ kind: 'dead', atMs: Date.now(), reason: `candidate ${conn.id} closed before every OK:SUB` });
      return;
    }
    if (conn === this.#active) {
      this.#active = undefined;
      this.#event({ kind: 'connection_lost', atMs: Date.now(), connId: conn.id });
      this.#reconnect();
    }
  }

  /** Opens one candidate (retrying refused upgrades), then re-sends every stored SUB on it. */
  #reconnect(): void {
    if (this.#reconnecting || this.#candidate !== undefined) return; // one candidate at a time
    this.#reconnecting = true;
    const attempt = (n: number): void => {
      if (this.#stopped) return;
      this.#connect().then(
        (conn) => {
          this.#reconnecting = false;
          this.#candidate = conn;
          for (const [k, s] of this.#subs) {
            conn.awaiting.add(k);
            conn.ws.send(`SUB:${s.tenant}:${s.pattern}`);
          }
          if (conn.awaiting.size === 0) this.#switchTo(conn);
        },
        (err: unknown) => {
          if (n + 1 >= this.#maxAttempts) {
            this.#reconnecting = false;
            this.#event({ kind: 'dead', atMs: Date.now(), reason: `no candidate after ${n + 1} attempts: ${String(err)}` });
            return;
          }
          this.#later(this.#retryMs, () => attempt(n + 1));
        },
      );
    };
    attempt(0);
  }

  #switchTo(conn: Conn): void {
    const old = this.#active;
    this.#candidate = undefined;
    this.#active = conn;
    this.#event({ kind: 'reconnect_ready', atMs: Date.now(), connId: conn.id });
    this.#overlapUntilMs = Date.now() + this.#overlapMs;
    this.#recent = new Set();
    if (old === undefined) return;
    this.#later(this.#overlapMs, () => {
      old.ws.close(1000);
      this.#event({ kind: 'old_closed', atMs: Date.now(), connId: old.id });
    });
  }
}
