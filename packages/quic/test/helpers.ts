// Shared helpers for the QUIC conformance tests (real UDP sockets on loopback).
import type { EventEmitter } from 'node:events';
import {
  QuicEndpoint,
  generateTestPki,
  type QuicConnection,
  type QuicServerTlsOptions,
  type QuicTransportOptions,
  type TestPki,
} from '../src/index.js';

export const ALPN = 'fastpubsub/1';

let cached: TestPki | undefined;
export function pki(): TestPki {
  cached ??= generateTestPki(['localhost', '127.0.0.1'], 'relay-a.mesh');
  return cached;
}

const open = new Set<QuicEndpoint>();

export function server(opts: { tls?: Partial<QuicServerTlsOptions>; transport?: QuicTransportOptions } = {}): QuicEndpoint {
  const p = pki();
  const ep = new QuicEndpoint({
    host: '127.0.0.1',
    server: { certPem: p.serverCertPem, keyPem: p.serverKeyPem, alpn: [ALPN], ...opts.tls },
    closeTimeoutMs: 1000,
    ...(opts.transport === undefined ? {} : { transport: opts.transport }),
  });
  open.add(ep);
  return ep;
}

export function client(transport?: QuicTransportOptions): QuicEndpoint {
  const ep = new QuicEndpoint({ host: '127.0.0.1', closeTimeoutMs: 1000, ...(transport === undefined ? {} : { transport }) });
  open.add(ep);
  return ep;
}

/** A connected pair: [client side, server side]. */
export async function pair(
  transport?: QuicTransportOptions,
): Promise<{ srv: QuicEndpoint; cli: QuicEndpoint; c: QuicConnection; s: QuicConnection }> {
  const srv = server(transport === undefined ? {} : { transport });
  const cli = client(transport);
  const accepted = once<[QuicConnection]>(srv, 'connection');
  const c = await cli.connect({ host: '127.0.0.1', port: srv.address.port, serverName: 'localhost', alpn: [ALPN], caPem: pki().caCertPem });
  const [s] = await accepted;
  return { srv, cli, c, s };
}

export async function closeAll(): Promise<void> {
  const eps = [...open];
  open.clear();
  await Promise.all(eps.map((e) => e.close()));
}

/** Resolves with the event's arguments, rejects after `ms`. */
export function once<A extends unknown[]>(em: EventEmitter, event: string, ms = 5000): Promise<A> {
  return new Promise<A>((resolve, reject) => {
    const t = setTimeout(() => {
      em.off(event, on);
      reject(new Error(`timeout waiting for '${event}'`));
    }, ms);
    const on = (...args: unknown[]): void => {
      clearTimeout(t);
      resolve(args as A);
    };
    em.once(event, on);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await sleep(5);
  }
}

export function collect(em: EventEmitter): { bytes: () => number; chunks: Buffer[]; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  let n = 0;
  em.on('data', (d: Buffer) => {
    chunks.push(d);
    n += d.length;
  });
  const ended = new Promise<void>((r) => em.once('end', () => r()));
  return { bytes: () => n, chunks, ended };
}

export function pattern(len: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}
