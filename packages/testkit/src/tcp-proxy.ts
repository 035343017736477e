// TcpDelayProxy: a TCP proxy that adds a one-way delay per direction, for WebSocket/HTTP tests
// ("one edge behind a delay proxy", "the connection is cut by a proxy").

import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpDelayProxyOptions {
  /** Where accepted connections are forwarded. */
  target: { host?: string; port: number };
  /** Added delay for bytes from the client towards the target (ms, default 0). */
  upMs?: number;
  /** Added delay for bytes from the target back to the client (ms, default 0). */
  downMs?: number;
  /** Listen address (default 127.0.0.1) and port (default 0 = ephemeral). */
  host?: string;
  port?: number;
  /** Bytes buffered in the delay line before the sender is paused (default 4 MiB). */
  highWaterBytes?: number;
}

export interface TcpProxyStats {
  /** Connections accepted so far. */
  accepted: number;
  /** Connections currently open. */
  open: number;
  bytesUp: number;
  bytesDown: number;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export class TcpDelayProxy {
  readonly host: string;
  readonly port: number;
  private upMs: number;
  private downMs: number;
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private readonly counters = { accepted: 0, bytesUp: 0, bytesDown: 0 };
  private closed = false;

  private constructor(server: Server, host: string, port: number, private readonly opts: TcpDelayProxyOptions) {
    this.server = server;
    this.host = host;
    this.port = port;
    this.upMs = checkDelay(opts.upMs ?? 0, 'upMs');
    this.downMs = checkDelay(opts.downMs ?? 0, 'downMs');
  }

  static async start(opts: TcpDelayProxyOptions): Promise<TcpDelayProxy> {
    const host = opts.host ?? '127.0.0.1';
    checkDelay(opts.upMs ?? 0, 'upMs');
    checkDelay(opts.downMs ?? 0, 'downMs');
    const ref: { proxy?: TcpDelayProxy } = {};
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
      if (ref.proxy === undefined) client.destroy();
      else ref.proxy.accept(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('TcpDelayProxy: no listen address');
    ref.proxy = new TcpDelayProxy(server, host, addr.port, opts);
    return ref.proxy;
  }

  /** `http://host:port`; use `ws://` yourself for WebSocket clients. */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Changes the delays for bytes sent from now on (bytes already queued keep their time). */
  setDelay(delay: { upMs?: number; downMs?: number }): void {
    if (delay.upMs !== undefined) this.upMs = checkDelay(delay.upMs, 'upMs');
    if (delay.downMs !== undefined) this.downMs = checkDelay(delay.downMs, 'downMs');
  }

  stats(): TcpProxyStats {
    return { ...this.counters, open: this.pairs.size };
  }

  /** Destroys every current connection (both sides see a reset); keeps accepting new ones. */
  cut(): void {
    for (const pair of this.pairs) {
      pair.client.resetAndDestroy();
      pair.upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /** Stops listening and cuts every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.closed) {
      client.destroy();
      return;
    }
    this.counters.accepted++;
    const upstream = connect({ host: this.opts.target.host ?? '127.0.0.1', port: this.opts.target.port, noDelay: true, allowHalfOpen: true });
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const teardown = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    const closed = (): void => {
      if (client.destroyed && upstream.destroyed) this.pairs.delete(pair);
    };
    client.on('close', closed);
    upstream.on('close', closed);
    const high = this.opts.highWaterBytes ?? 4 * 1024 * 1024;
    pipeDelayed(client, upstream, () => this.upMs, high, (n) => { this.counters.bytesUp += n; }, teardown);
    pipeDelayed(upstream, client, () => this.downMs, high, (n) => { this.counters.bytesDown += n; }, teardown);
  }
}

/**
 * Copies `from` → `to`, each chunk after `delay()` ms, in order (a chunk is never sent before the
 * previous one). A FIN is forwarded after the same delay (half-close is preserved); an error
 * or reset on one side tears down both, also after the delay.
 */
function pipeDelayed(
  from: Socket,
  to: Socket,
  delay: () => number,
  highWaterBytes: number,
  count: (bytes: number) => void,
  teardown: () => void,
): void {
  let lastAt = 0;
  let queued = 0;
  let paused = false;
  const at = (): number => {
    lastAt = Math.max(performance.now() + delay(), lastAt);
    return lastAt;
  };
  const after = (when: number, fn: () => void): void => {
    const wait = Math.max(0, Math.ceil(when - performance.now()));
    if (wait === 0) fn();
    else setTimeout(fn, wait);
  };
  from.on('data', (chunk: Buffer) => {
    queued += chunk.length;
    if (queued > highWaterBytes && !paused) {
      paused = true;
      from.pause();
    }
    after(at(), () => {
      queued -= chunk.length;
      if (paused && queued <= highWaterBytes / 2) {
        paused = false;
        from.resume();
      }
      if (to.destroyed || to.writableEnded) return;
      count(chunk.length);
      to.write(chunk);
    });
  });
  from.on('end', () => after(at(), () => {
    if (!to.destroyed) to.end();
  }));
  from.on('error', () => {}); // followed by 'close' with hadError
  from.on('close', (hadError: boolean) => {
    if (hadError) after(at(), teardown);
  });
}

function checkDelay(ms: number, name: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`TcpDelayProxy: ${name} must be a finite number >= 0, got ${String(ms)}`);
  }
  return ms;
}
