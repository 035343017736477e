// A bridge's connection to a NATS server (nats.js). Out-bound messages carry the header
// `Fps-Bridge: {bridge id}`; in-bound messages carrying this bridge's own mark are its echoes
// and are dropped (docs/bridges.md "No loops"). Reconnects with exponential backoff; while
// down, publish() returns false (the caller drops and counts).
import { connect, headers, type NatsConnection } from 'nats';
import type { Logger } from '@fastpubsub/core';
import type { BusHandler, ExternalBus } from './bus.js';
import { Backoff } from './bus.js';

export const MARK_HEADER = 'Fps-Bridge';

export class NatsBus implements ExternalBus {
  readonly #url: string;
  readonly #id: string;
  readonly #logger: Logger;
  readonly #backoff: Backoff;
  #nc: NatsConnection | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(url: string, bridgeId: string, backoff: Backoff, logger: Logger) {
    this.#url = url.replace(/^nats:\/\//, '');
    this.#id = bridgeId;
    this.#backoff = backoff;
    this.#logger = logger;
  }

  get up(): boolean {
    return this.#nc !== undefined && !this.#nc.isClosed();
  }

  start(patterns: readonly string[], handler: BusHandler): void {
    void this.#connect(patterns, handler);
  }

  async #connect(patterns: readonly string[], handler: BusHandler): Promise<void> {
    if (this.#closed) return;
    try {
      const nc = await connect({ servers: this.#url, reconnect: false, timeout: 2000, name: `fastpubsub-bridge-${this.#id}` });
      if (this.#closed) {
        await nc.close();
        return;
      }
      this.#nc = nc;
      this.#backoff.reset();
      handler.onUp();
      for (const p of patterns) {
        nc.subscribe(p, {
          callback: (err, msg) => {
            if (err !== null) return;
            handler.onMessage(msg.subject, msg.data, msg.headers?.get(MARK_HEADER) === this.#id);
          },
        });
      }
      void nc.closed().then(() => {
        this.#nc = undefined;
        if (this.#closed) return;
        handler.onDown('connection lost');
        this.#schedule(patterns, handler);
      });
    } catch (err) {
      handler.onDown((err as Error).message);
      this.#schedule(patterns, handler);
    }
  }

  #schedule(patterns: readonly string[], handler: BusHandler): void {
    if (this.#closed) return;
    const delay = this.#backoff.next();
    this.#logger.debug('nats bridge reconnecting', { bridge: this.#id, delayMs: delay });
    this.#timer = setTimeout(() => void this.#connect(patterns, handler), delay);
    this.#timer.unref();
  }

  publish(subject: string, payload: Uint8Array): boolean {
    const nc = this.#nc;
    if (nc === undefined || nc.isClosed()) return false;
    const h = headers();
    h.set(MARK_HEADER, this.#id);
    try {
      nc.publish(subject, payload, { headers: h });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const nc = this.#nc;
    this.#nc = undefined;
    if (nc !== undefined && !nc.isClosed()) await nc.close().catch(() => undefined);
  }
}
