// A bridge's connection to Redis pub/sub (ioredis): one connection publishes, one subscribes
// (Redis allows nothing else on a subscribed connection). Redis messages have no headers and
// the payload must reach Redis consumers unchanged, so the loop mark is kept on our side: the
// fingerprint (channel + SHA-1 of the payload) of every message this bridge published, for
// ECHO_TTL_MS; the first in-bound copy matching one is its echo and is dropped
// (docs/bridges.md "No loops"). ioredis reconnects with our backoff; while down, publish()
// returns false (the caller drops and counts) — no offline queue.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '@fastpubsub/core';
import type { Backoff, BusHandler, ExternalBus } from './bus.js';

const ECHO_TTL_MS = 10_000;
const MAX_ECHOES = 10_000;

export class RedisBus implements ExternalBus {
  readonly #url: string;
  readonly #id: string;
  readonly #backoff: Backoff;
  readonly #logger: Logger;
  /** fingerprint → expiry (ms); insertion order = age, so the oldest go first when full. */
  readonly #sent = new Map<string, number>();
  #pub: Redis | undefined;
  #sub: Redis | undefined;

  constructor(url: string, bridgeId: string, backoff: Backoff, logger: Logger) {
    this.#url = url;
    this.#id = bridgeId;
    this.#backoff = backoff;
    this.#logger = logger;
  }

  get up(): boolean {
    return this.#pub?.status === 'ready' && this.#sub?.status === 'ready';
  }

  start(patterns: readonly string[], handler: BusHandler): void {
    const options = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (): number => this.#backoff.next(),
      connectionName: `fastpubsub-bridge-${this.#id}`,
    };
    const pub = new Redis(this.#url, options);
    // The subscriber needs its queue for the (re)subscribe commands sent before 'ready'.
    const sub = new Redis(this.#url, { ...options, enableOfflineQueue: true });
    this.#pub = pub;
    this.#sub = sub;
    let wasUp = false;
    const check = (reason: string): void => {
      if (this.up && !wasUp) {
        wasUp = true;
        this.#backoff.reset();
        handler.onUp();
      } else if (!this.up && wasUp) {
        wasUp = false;
        handler.onDown(reason);
      }
    };
    for (const c of [pub, sub]) {
      c.on('ready', () => check('ready'));
      c.on('close', () => check('connection closed'));
      c.on('error', (err: Error) => {
        this.#logger.debug('redis bridge error', { bridge: this.#id, err: err.message });
        check(err.message);
      });
    }
    const exact = patterns.filter((p) => !p.includes('*'));
    const globs = patterns.filter((p) => p.includes('*'));
    if (exact.length > 0) void sub.subscribe(...exact).catch(() => undefined);
    if (globs.length > 0) void sub.psubscribe(...globs).catch(() => undefined);
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#inbound(channel.toString('utf8'), message, handler));
    sub.on('pmessageBuffer', (_p: Buffer, channel: Buffer, message: Buffer) => this.#inbound(channel.toString('utf8'), message, handler));
  }

  #inbound(channel: string, payload: Buffer, handler: BusHandler): void {
    const key = fingerprint(channel, payload);
    const expires = this.#sent.get(key);
    const echo = expires !== undefined && expires > Date.now();
    if (expires !== undefined) this.#sent.delete(key);
    handler.onMessage(channel, payload, echo);
  }

  publish(subject: string, payload: Uint8Array): boolean {
    const pub = this.#pub;
    if (pub === undefined || pub.status !== 'ready') return false;
    if (this.#sent.size >= MAX_ECHOES) {
      const oldest = this.#sent.keys().next();
      if (oldest.done !== true) this.#sent.delete(oldest.value);
    }
    this.#sent.set(fingerprint(subject, payload), Date.now() + ECHO_TTL_MS);
    pub.publish(subject, Buffer.from(payload)).catch(() => undefined);
    return true;
  }

  async close(): Promise<void> {
    const clients = [this.#pub, this.#sub];
    this.#pub = undefined;
    this.#sub = undefined;
    for (const c of clients) c?.disconnect(false);
    await Promise.resolve();
  }
}

function fingerprint(channel: string, payload: Uint8Array): string {
  return `${channel}\0${createHash('sha1').update(payload).digest('base64')}`;
}
