// One subscription of the QUIC edge client (./quic-client.ts): resolves `ready` on the relay's
// OK, carries MSG/DMSG to `onMessage`, and exposes its stream so tests can pause() it.
import type { QuicStream } from '@fastpubsub/quic';
import type { ClientError } from '../errors.js';

export interface QuicMessage {
  channel: string;
  data: Uint8Array;
  /** True when it came as a DMSG datagram. */
  datagram: boolean;
}

export interface QuicSubscribeOptions {
  /** Ask for DMSG datagram delivery ("latest matters"); larger messages still use the stream. */
  datagram?: boolean;
  /** Latest mode: the relay keeps only the newest queued message per channel and sends what fits as datagrams. */
  latest?: boolean;
}

/** One subscription: its stream is visible so tests can pause() it (stop reading). */
export class QuicEdgeSubscription {
  readonly id: number;
  readonly tenant: string;
  readonly pattern: string;
  /** Resolves on the relay's OK; rejects with ClientError('server', serverCode) on ERR. */
  readonly ready: Promise<void>;
  onMessage: (msg: QuicMessage) => void = () => {};
  /** Latest mode: the relay replaced `count` of this subscription's messages by newer ones. */
  onSuperseded: (count: number) => void = () => {};
  /** The relay reset the stream (code 0x10: slow consumer) or sent ERR for it later. */
  onEnd: (info: { code: number | undefined; serverCode?: string }) => void = () => {};
  stream: QuicStream | undefined;
  /** @internal */ _resolve!: () => void;
  /** @internal */ _reject!: (e: ClientError) => void;
  #settled = false;

  constructor(id: number, tenant: string, pattern: string) {
    this.id = id;
    this.tenant = tenant;
    this.pattern = pattern;
    this.ready = new Promise<void>((resolve, reject) => {
      this._resolve = () => {
        this.#settled = true;
        resolve();
      };
      this._reject = (e) => {
        this.#settled = true;
        reject(e);
      };
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Stop reading this subscription's stream (flow control then blocks it at the relay). */
  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }
}
