// Test helpers: a real relay on loopback, tokens through its REST API, and a TCP proxy that
// can add delay and cut every connection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { startRelay, type Relay } from '@fastpubsub/relay';
import assert from 'node:assert/strict';
import { createToken } from '../src/admin.js';
import type { Client, Message, Subscription } from '../src/index.js';

export const MASTER = 'mt-test-master-token-0123456789abcd';

export interface TestRelay {
  relay: Relay;
  dataDir: string;
  /** Stops the relay at once (no grace) and starts a new one on the same HTTP and QUIC ports and dataDir. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestRelay(options: { port?: number; dataDir?: string } = {}): Promise<TestRelay> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'fps-client-'));
  // quicPort: undefined → the relay's default (HTTP port + 1, or any free port when that is 0).
  const start = (port: number, quicPort?: number): Promise<Relay> =>
    startRelay({
      listen: { host: '127.0.0.1', port },
      masterToken: MASTER,
      dataDir,
      logLevel: 'silent',
      ...(quicPort === undefined ? {} : { quic: { listen: { host: '127.0.0.1', port: quicPort } } }),
    });
  const t: TestRelay = {
    relay: await start(options.port ?? 0),
    dataDir,
    async restart() {
      const { port, quicPort } = t.relay;
      await t.relay.close({ graceMs: 0 });
      t.relay = await start(port, quicPort);
    },
    async close() {
      await t.relay.close({ graceMs: 0 });
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

export async function makeToken(url: string, options: { ttlMs?: number; tenant?: string; pub?: string[]; sub?: string[] } = {}): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = Date.now() + (options.ttlMs ?? 3_600_000);
  const token = await createToken(
    {
      grants: [{ tenant_ids: [options.tenant ?? 't1'], allow_channels_pub: options.pub ?? ['#'], allow_channels_sub: options.sub ?? ['#'] }],
      expiresAt,
      createdBy: 'client-tests',
    },
    { url, masterToken: MASTER },
  );
  return { token, expiresAt };
}

export interface TcpProxy {
  port: number;
  url: string;
  /** Destroys every proxied connection (both sides), as a network cut would. */
  cut(): void;
  /** Refuse (close at once) new connections while true. */
  blocked: boolean;
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:targetPort adding `delayMs` to each direction of every chunk. */
export async function startProxy(targetPort: number, options: { delayMs?: number } = {}): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const delayMs = options.delayMs ?? 0;
  const pipe = (from: Socket, to: Socket): void => {
    from.on('data', (chunk) => {
      if (delayMs === 0) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), delayMs);
    });
    from.on('end', () => (delayMs === 0 ? to.end() : setTimeout(() => to.end(), delayMs)));
  };
  const proxy: TcpProxy = {
    port: 0,
    url: '',
    blocked: false,
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close() {
      proxy.cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((client) => {
    if (proxy.blocked) return client.destroy();
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  proxy.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

// ---- transport-independent resilience checks (WebSocket and QUIC suites) ---------------------

/** Collects every message of `sub` (async iteration) into the returned array. */
export function collect(sub: Subscription): Message[] {
  const got: Message[] = [];
  void (async () => {
    for await (const m of sub) got.push(m);
  })();
  return got;
}

/** Resolves on the client's next 'connected' event; rejects after `timeoutMs`. */
export function nextConnected(client: Client, timeoutMs = 8000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no reconnect in time')), timeoutMs);
    const off = client.on('connected', () => {
      clearTimeout(t);
      off();
      resolve();
    });
  });
}

/** Publishes `n` numbered messages per channel (tenant t1) and checks each subscription got exactly them, in order. */
export async function checkExactlyOnce(publisher: Client, subs: Array<{ channel: string; got: Message[] }>, n: number, tag: string): Promise<void> {
  const before = subs.map((s) => s.got.length);
  for (let i = 0; i < n; i++) for (const s of subs) publisher.publish('t1', s.channel, `${tag}-${i}`);
  await waitFor(() => subs.every((s, k) => s.got.length - before[k]! >= n), 5000, `${tag} deliveries`);
  await new Promise((r) => setTimeout(r, 200)); // room for stray duplicates to show up
  subs.forEach((s, k) => {
    const fresh = s.got.slice(before[k]).map((m) => text(m.payload));
    assert.deepEqual(fresh, Array.from({ length: n }, (_, i) => `${tag}-${i}`), `${s.channel}: exactly once, in order`);
  });
}
