// Small UDP helpers for the real-socket tests (127.0.0.1 only).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { UdpAddress } from '../src/index.js';

export interface Peer {
  socket: Socket;
  port: number;
  received: { msg: Buffer; from: RemoteInfo; at: number }[];
  /** Resolves once `n` messages have been received in total, or rejects after `ms`. */
  waitFor(n: number, ms: number): Promise<void>;
  send(to: UdpAddress, data: string | Buffer): void;
  close(): Promise<void>;
}

/** A UDP socket that records what it receives; with `echo`, it answers 'ping…' with 'pong…'. */
export async function peer(echo = false): Promise<Peer> {
  const socket = createSocket('udp4');
  const received: Peer['received'] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  socket.on('message', (msg, from) => {
    received.push({ msg, from, at: performance.now() });
    if (echo && msg.subarray(0, 4).toString() === 'ping') {
      socket.send(Buffer.concat([Buffer.from('pong'), msg.subarray(4)]), from.port, from.address);
    }
    if (waiter !== undefined && received.length >= waiter.n) waiter.resolve();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    socket,
    port: socket.address().port,
    received,
    waitFor(n, ms) {
      if (received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`received ${received.length} of ${n} within ${ms} ms`));
        }, ms);
        waiter = { n, resolve: () => { clearTimeout(timer); waiter = undefined; resolve(); } };
      });
    },
    send(to, data) {
      socket.send(typeof data === 'string' ? Buffer.from(data) : data, to.port, to.host);
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `count` datagrams 'ping<i>' in batches, yielding between batches so loopback buffers keep up. */
export async function sendMany(from: Peer, to: UdpAddress, count: number, batch = 20, gapMs = 1): Promise<void> {
  for (let i = 0; i < count; i++) {
    from.send(to, `ping${i}`);
    if (i % batch === batch - 1) await sleep(gapMs);
  }
}

/** Round trip of one 'ping' through `to`, answered by an echo peer; returns ms. */
export async function roundTrip(from: Peer, to: UdpAddress, timeoutMs = 3000): Promise<number> {
  const before = from.received.length;
  const start = performance.now();
  from.send(to, `ping-rt${before}`);
  await from.waitFor(before + 1, timeoutMs);
  return from.received[before]!.at - start;
}
