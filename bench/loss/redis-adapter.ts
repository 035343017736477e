// Redis side: redis-server (Debian) as its own process, pub/sub on channel `bench.x` with the
// `ioredis` client; the stalled subscriber is a raw TCP socket speaking RESP, paused once the
// server confirmed SUBSCRIBE. Same seam as the fan-out benchmark's NATS adapter.
import { existsSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { BrokerAdapter, Closeable, OnPayload, Publisher, RunningBroker } from '../fanout/adapter.js';
import { freePort, spawnChild } from '../fanout/processes.js';

const CHANNEL = 'bench.x';

/** The redis-server binary, or undefined when it is not installed. */
export function findRedisServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (dir !== '' && existsSync(`${dir}/redis-server`)) return `${dir}/redis-server`;
  }
  return undefined;
}

export const REDIS_MISSING = 'redis-server not found: install it with `apt-get install redis-server` (or leave redis out of --only)';

export async function startRedis(): Promise<RunningBroker> {
  const bin = findRedisServer();
  if (bin === undefined) throw new Error(REDIS_MISSING);
  const port = await freePort();
  // No persistence, no protected mode (loopback only), default pub/sub output-buffer limits
  // (32 MB hard, 8 MB for 60 s) so a stalled subscriber is eventually disconnected as in production.
  const proc = spawnChild(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'], 'redis-server');
  const stop = (): Promise<void> => proc.stop();
  try {
    await waitForPing(port, 10_000);
    const admin = open(port);
    return {
      name: 'redis',
      pid: proc.pid,
      adapter: redisAdapter(port),
      slowConsumerCount: async () => {
        const info = await withTimeout(admin.info('stats'), 3000);
        const m = /^client_output_buffer_limit_disconnections:(\d+)/m.exec(info);
        return m?.[1] !== undefined ? Number(m[1]) : Number.NaN;
      },
      output: proc.output,
      stop: async () => {
        admin.disconnect();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function open(port: number): Redis {
  return new Redis({
    host: '127.0.0.1',
    port,
    // One connection, no reconnects: a dropped connection must show up as missing deliveries.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 20_000,
    // Commands of one tick go out as one socket write, as nats.js does for NATS.
    enableAutoPipelining: true,
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const r = new Redis({ host: '127.0.0.1', port, retryStrategy: () => null, maxRetriesPerRequest: 0, lazyConnect: true });
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.ping();
      return;
    } catch (err) {
      if (performance.now() > until) throw new Error(`redis-server not answering PING after ${timeoutMs} ms: ${String(err)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      r.disconnect();
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function redisAdapter(port: number): BrokerAdapter {
  return {
    name: 'redis',
    async subscriber(onPayload: OnPayload): Promise<Closeable> {
      const r = open(port);
      r.on('error', () => undefined);
      r.on('messageBuffer', (_channel: Buffer, message: Buffer) => onPayload(message, 0));
      await r.subscribe(CHANNEL); // resolves on the server's subscribe reply
      return { close: async () => { r.disconnect(); } };
    },
    stalledSubscriber: () => rawStalledSubscriber(port),
    async publisher(): Promise<Publisher> {
      const r = open(port);
      r.on('error', () => undefined);
      await r.ping();
      let failed = 0;
      return {
        publish: (payload) => { r.publish(CHANNEL, Buffer.from(payload)).catch(() => { failed++; }); },
        burst: (fn) => fn(), // auto-pipelining writes one tick's commands together
        roundTrip: async () => { await r.ping(); },
        close: async () => {
          if (failed > 0) process.stderr.write(`bench: ${failed} redis PUBLISH commands failed\n`);
          r.disconnect();
        },
      };
    },
  };
}

/** SUBSCRIBE over a plain socket; once the server confirms it, the socket is paused for good. */
function rawStalledSubscriber(port: number): Promise<Closeable> {
  return new Promise((resolve, reject) => {
    const sock: Socket = tcpConnect({ host: '127.0.0.1', port });
    let seen = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('redis stalled subscriber: no subscribe reply')); }, 20_000);
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('connect', () => sock.write(`*2\r\n$9\r\nSUBSCRIBE\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n`));
    sock.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      if (/subscribe\r\n\$\d+\r\n[^\r]+\r\n:\d+\r\n/.test(seen)) {
        clearTimeout(timer);
        sock.removeAllListeners('data');
        sock.pause();
        sock.on('error', () => undefined); // the server may drop it past the output-buffer limit
        resolve({ close: async () => { sock.destroy(); } });
      }
    });
  });
}
