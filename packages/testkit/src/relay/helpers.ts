// Black-box test harness for the relay: starts it in a temp dir, issues tokens over REST, and
// opens WebSocket clients with a per-socket message queue. Every wait has a short timeout.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startRelay } from '@fastpubsub/relay';
import { decodeDelivery, encodePublishV1, type Delivery } from './codec.js';

export const MASTER_TOKEN = 'test-master-token-0123456789abcdef';

export type Relay = Awaited<ReturnType<typeof startRelay>>;
export type RelayOptions = Parameters<typeof startRelay>[0];
type Limits = NonNullable<RelayOptions['limits']>;

/** Prefix rules granted by default: every channel the tests use lives under one of these. */
export const BROAD_RULES = ['a.#', 'b.#', 'q.#', 'x.#', 'z.#', 'load.#'];

export interface Grant {
  tenant_ids: string[];
  allow_channels_pub: string[];
  allow_channels_sub: string[];
}

export interface RightSpec {
  tenant_grants?: Grant[];
  allow_ip_masks?: string[];
  allow_regions?: string[];
  allowed_ws_origin?: string[];
  /** Defaults to one hour ahead. */
  expires_at?: string;
}

export function broadGrant(tenants: string[] = ['t1', 't2']): Grant {
  return { tenant_ids: tenants, allow_channels_pub: [...BROAD_RULES], allow_channels_sub: [...BROAD_RULES] };
}

export function isoIn(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Rejects after `ms` unless `p` settles first. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HttpResult {
  status: number;
  text: string;
  json: unknown;
}

export async function http(
  baseUrl: string,
  method: string,
  path: string,
  opts: { body?: unknown; bearer?: string | null; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  const bearer = opts.bearer === undefined ? MASTER_TOKEN : opts.bearer;
  if (bearer !== null) headers['authorization'] = `Bearer ${bearer}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(baseUrl.replace(/\/$/, '') + path, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

export function tokenBody(right: RightSpec = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    right: {
      tenant_grants: right.tenant_grants ?? [broadGrant()],
      allow_ip_masks: right.allow_ip_masks ?? [],
      allow_regions: right.allow_regions ?? [],
      allowed_ws_origin: right.allowed_ws_origin ?? [],
      expires_at: right.expires_at ?? isoIn(3600_000),
    },
    created_by: 'conformance-tests',
    description: 'issued by packages/relay/test/conformance',
    ...extra,
  };
}

/** POST /v1/get-token; asserts 2xx and returns the AT. */
export async function issueToken(baseUrl: string, right: RightSpec = {}): Promise<string> {
  const r = await http(baseUrl, 'POST', '/v1/get-token', { body: tokenBody(right) });
  assert.ok(r.status >= 200 && r.status < 300, `get-token: expected 2xx, got ${r.status} ${r.text}`);
  const token = (r.json as { token?: unknown } | undefined)?.token;
  assert.equal(typeof token, 'string', `get-token reply has no token: ${r.text}`);
  return token as string;
}

export function tokenId(token: string): string {
  const rest = token.slice('AT_'.length);
  return rest.slice(0, rest.indexOf('_'));
}

export interface Msg {
  data: Buffer;
  binary: boolean;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

function describeMsg(m: Msg): string {
  return m.binary ? `binary(${m.data.length}) ${m.data.subarray(0, 48).toString('hex')}` : `text ${JSON.stringify(m.data.toString('utf8'))}`;
}

/** A WebSocket client with a message queue: `next(ms)` rejects on timeout or close. */
export class Client {
  private readonly queue: Msg[] = [];
  private waiter: (() => void) | undefined;
  closeInfo: CloseInfo | undefined;
  readonly closed: Promise<CloseInfo>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData, binary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.queue.push({ data: buf, binary });
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        this.wake();
        resolve(this.closeInfo);
      });
    });
    ws.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  get pending(): number {
    return this.queue.length;
  }

  async next(ms = 2000): Promise<Msg> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      if (this.closeInfo) throw new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for a message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  async nextText(ms = 2000): Promise<string> {
    const m = await this.next(ms);
    assert.equal(m.binary, false, `expected a text frame, got ${describeMsg(m)}`);
    return m.data.toString('utf8');
  }

  async nextBinary(ms = 2000): Promise<Buffer> {
    const m = await this.next(ms);
    assert.equal(m.binary, true, `expected a binary frame, got ${describeMsg(m)}`);
    return m.data;
  }

  async nextDelivery(ms = 2000): Promise<Delivery> {
    return decodeDelivery(await this.nextBinary(ms));
  }

  /** Asserts that nothing arrives for `ms` (call after a barrier proved the pipeline flushed). */
  async expectNothing(ms = 200): Promise<void> {
    await sleep(ms);
    const m = this.queue[0];
    assert.equal(m, undefined, m ? `expected nothing, got ${describeMsg(m)}` : '');
  }

  sendText(s: string | Buffer): void {
    this.ws.send(typeof s === 'string' ? Buffer.from(s, 'utf8') : s, { binary: false });
  }

  sendBinary(b: Buffer): void {
    this.ws.send(b, { binary: true });
  }

  /** SUB and wait for the exact `OK:SUB:` echo. */
  async sub(tenant: string, pattern: string, ms = 2000): Promise<void> {
    this.sendText(`SUB:${tenant}:${pattern}`);
    assert.equal(await this.nextText(ms), `OK:SUB:${tenant}:${pattern}`);
  }

  async unsub(tenant: string, pattern: string, ms = 2000): Promise<void> {
    this.sendText(`UNSUB:${tenant}:${pattern}`);
    assert.equal(await this.nextText(ms), `OK:UNSUB:${tenant}:${pattern}`);
  }

  /** PING → PONG; also a barrier for this connection's earlier frames. */
  async ping(ms = 2000): Promise<void> {
    this.sendText('PING');
    assert.equal(await this.nextText(ms), 'PONG');
  }

  publish(tenant: string, channel: string, payload: string | Buffer = ''): void {
    this.sendBinary(encodePublishV1(tenant, channel, payload));
  }

  async close(): Promise<void> {
    if (this.closeInfo) return;
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    try {
      await within(this.closed, 1000, 'close handshake');
    } catch {
      this.ws.terminate();
    }
  }
}

export interface ConnectOptions {
  path?: string;
  headers?: Record<string, string>;
  /** Subprotocols offered; defaults to `llps.v1` and `at.<token>` (ws joins them with `,`). */
  protocols?: string[];
  timeoutMs?: number;
}

/** Opens a client; rejects (with the HTTP status when there is one) if the upgrade fails. */
export function connectWs(wsBase: string, token: string | undefined, opts: ConnectOptions = {}): Promise<Client> {
  const url = wsBase.replace(/\/ws$/, '').replace(/\/$/, '') + (opts.path ?? '/ws');
  const protocols = opts.protocols ?? (token === undefined ? ['llps.v1'] : ['llps.v1', `at.${token}`]);
  const ws = new WebSocket(url, protocols, {
    perMessageDeflate: false,
    handshakeTimeout: opts.timeoutMs ?? 3000,
    headers: opts.headers ?? {},
  });
  const client = new Client(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      reject(new Error(`upgrade refused with HTTP ${res.statusCode ?? '?'}`));
    });
    ws.once('error', (err: Error) => reject(err));
    ws.once('close', (code: number) => reject(new Error(`closed with ${code} before open`)));
  });
}

/** Prometheus text lookup: sums every sample of `name` whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let found = false;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labelText = m[3] ?? '';
    const have = new Map<string, string>();
    for (const lm of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have.set(lm[1] ?? '', lm[2] ?? '');
    if (!Object.entries(labels).every(([k, v]) => have.get(k) === v)) continue;
    found = true;
    sum += Number(m[4]);
  }
  return found ? sum : undefined;
}

export async function scrapeMetrics(relay: Relay): Promise<string> {
  const r = await http(relay.httpUrl, 'GET', '/metrics', { bearer: null });
  assert.equal(r.status, 200, `GET /metrics: ${r.status}`);
  return r.text;
}

/** Polls `cond` every 20 ms until it holds; throws after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A free loopback TCP port (tiny race between closing the probe and the relay binding it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let barrierSeq = 0;

/** A fresh tag for barrier messages. */
export function barrierTag(): string {
  return `barrier-${process.pid}-${++barrierSeq}`;
}

/**
 * Collects every frame `sub` receives up to (not including) the delivery on `channel` whose
 * payload is `tag`.
 */
export async function collectUntil(sub: Client, channel: string, tag: string, ms = 2000): Promise<Msg[]> {
  const before: Msg[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    const m = await sub.next(Math.max(1, deadline - Date.now()));
    if (m.binary) {
      const d = decodeDelivery(m.data);
      if (d.channel === channel && d.payload.toString('utf8') === tag) return before;
    }
    before.push(m);
  }
}

/**
 * Publishes a unique barrier message on `channel` from `pub`, then collects every frame `sub`
 * receives before it. Per-connection order is kept by the relay, so any delivery caused by
 * `pub`'s earlier publishes arrives before the barrier.
 */
export async function barrier(pub: Client, sub: Client, tenant: string, channel: string, ms = 2000): Promise<Msg[]> {
  const tag = barrierTag();
  pub.publish(tenant, channel, tag);
  return collectUntil(sub, channel, tag, ms);
}

/** Owns every relay, temp dir and socket a test creates; `cleanup()` in afterEach. */
export class TestEnv {
  private readonly relays: Relay[] = [];
  private readonly dirs: string[] = [];
  private readonly clients: Client[] = [];
  private readonly sockets: net.Socket[] = [];

  async relay(opts: Partial<Omit<RelayOptions, 'limits'>> & { limits?: Partial<Limits> } = {}): Promise<Relay> {
    const dataDir = await mkdtemp(join(tmpdir(), 'fps-conformance-'));
    this.dirs.push(dataDir);
    const relay = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      masterToken: MASTER_TOKEN,
      dataDir,
      logLevel: 'silent',
      ...opts,
    } as RelayOptions);
    this.relays.push(relay);
    return relay;
  }

  async token(relay: Relay, right: RightSpec = {}): Promise<string> {
    return issueToken(relay.httpUrl, right);
  }

  async connect(relay: Relay, token: string | undefined, opts: ConnectOptions = {}): Promise<Client> {
    const c = await connectWs(relay.wsUrl, token, opts);
    this.clients.push(c);
    return c;
  }

  /** A connected client holding a broad token for t1/t2. */
  async client(relay: Relay): Promise<Client> {
    return this.connect(relay, await this.token(relay));
  }

  track(c: Client): Client {
    this.clients.push(c);
    return c;
  }

  trackSocket(s: net.Socket): net.Socket {
    this.sockets.push(s);
    return s;
  }

  async cleanup(): Promise<void> {
    for (const s of this.sockets.splice(0)) s.destroy();
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    await Promise.all(
      this.relays.splice(0).map(async (r) => {
        try {
          await within(r.close({ graceMs: 0 }), 5000, 'relay close');
        } catch {
          // already closed, or stuck: the next tests will show it
        }
      }),
    );
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

export const KNOWN_ERR_CODES = new Set([
  'permission_denied', 'bad_frame', 'bad_command', 'invalid_pattern', 'invalid_name',
  'payload_too_large', 'too_many_subscriptions', 'pattern_too_complex', 'token_expired', 'rate_limited',
]);

/** Asserts an `ERR:{code}[:{detail}]` text frame with a known code (and `code` when given). */
export async function expectErr(c: Client, code?: string, ms = 2000): Promise<string> {
  const text = await c.nextText(ms);
  const m = /^ERR:([a-z_]+)(:.*)?$/s.exec(text);
  assert.ok(m, `expected ERR:{code}[:{detail}], got ${JSON.stringify(text)}`);
  assert.ok(KNOWN_ERR_CODES.has(m[1] ?? ''), `unknown ERR code in ${JSON.stringify(text)}`);
  if (code !== undefined) assert.equal(m[1], code, `wrong ERR code in ${JSON.stringify(text)}`);
  return text;
}

/** Decodes every message as a delivery, failing on text frames. */
export function deliveries(msgs: Msg[]): Delivery[] {
  return msgs.map((m) => {
    assert.equal(m.binary, true, `unexpected text frame ${m.data.toString('utf8')}`);
    return decodeDelivery(m.data);
  });
}
