// NATS side: nats-server 2.9 (Debian) as its own process, driven with the `nats` npm client on
// subject `bench.x`; the stalled subscriber is a raw TCP socket speaking the NATS text protocol.
import { existsSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import type { BrokerAdapter, Closeable, OnPayload, Publisher, RunningBroker } from './adapter.js';
import { freePort, spawnChild } from './processes.js';

const SUBJECT = 'bench.x';

/** The nats-server binary, or undefined when it is not installed. */
export function findNatsServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (dir !== '' && existsSync(`${dir}/nats-server`)) return `${dir}/nats-server`;
  }
  return undefined;
}

export const NATS_MISSING = 'nats-server not found: install it with `apt-get install nats-server` (or run with --only fastpubsub)';

export async function startNats(): Promise<RunningBroker> {
  const bin = findNatsServer();
  if (bin === undefined) throw new Error(NATS_MISSING);
  const port = await freePort();
  const monitor = await freePort();
  const proc = spawnChild(bin, ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitor)], 'nats-server');
  await proc.waitForLine(/Server is ready/, 10_000);
  const url = `nats://127.0.0.1:${port}`;
  return {
    name: 'nats',
    pid: proc.pid,
    adapter: natsAdapter(url, port),
    slowConsumerCount: async () => {
      const res = await fetch(`http://127.0.0.1:${monitor}/varz`, { signal: AbortSignal.timeout(3000) });
      const varz = (await res.json()) as { slow_consumers?: unknown };
      return typeof varz.slow_consumers === 'number' ? varz.slow_consumers : Number.NaN;
    },
    output: proc.output,
    stop: () => proc.stop(),
  };
}

function natsAdapter(url: string, port: number): BrokerAdapter {
  const open = (): Promise<NatsConnection> =>
    connect({ servers: url, reconnect: false, noEcho: true, pingInterval: 60_000 });
  return {
    name: 'nats',
    async subscriber(onPayload: OnPayload): Promise<Closeable> {
      const nc = await open();
      nc.subscribe(SUBJECT, { callback: (err, msg) => { if (err === null) onPayload(msg.data, 0); } });
      await nc.flush(); // the server has processed SUB
      return { close: () => nc.close() };
    },
    stalledSubscriber: () => rawStalledSubscriber(port),
    async publisher(): Promise<Publisher> {
      const nc = await open();
      return {
        // nats.js keeps a reference to the data until its next flush, so hand it a copy.
        publish: (payload) => nc.publish(SUBJECT, Buffer.from(payload)),
        burst: (fn) => fn(), // nats.js flushes once per microtask already
        roundTrip: () => nc.flush(),
        close: () => nc.close(),
      };
    },
  };
}

/** CONNECT + SUB + PING over a plain socket; once PONG arrives the socket is paused for good. */
function rawStalledSubscriber(port: number): Promise<Closeable> {
  return new Promise((resolve, reject) => {
    const sock: Socket = tcpConnect({ host: '127.0.0.1', port });
    let seen = '';
    let sent = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('nats stalled subscriber: no PONG')); }, 5000);
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      if (!sent && seen.includes('INFO ')) {
        sent = true;
        sock.write(`CONNECT {"verbose":false,"pedantic":false,"echo":false}\r\nSUB ${SUBJECT} 1\r\nPING\r\n`);
      }
      if (seen.includes('PONG\r\n')) {
        clearTimeout(timer);
        sock.removeAllListeners('data');
        sock.pause();
        sock.on('error', () => undefined); // the server may drop it as a slow consumer
        resolve({ close: async () => { sock.destroy(); } });
      }
    });
  });
}
