// Per-connection memory and liveness bounds of the WebSocket edge:
// - the message size limit follows the largest valid publish, so one connection can make the
//   relay buffer at most ~66 KB of an incoming message (not 1 MiB);
// - a message larger than that is refused with a visible ERR:payload_too_large before the
//   1009 close that RFC 6455 requires once the limit is crossed;
// - a message whose fragments stop arriving is cut after `wsMessageTimeoutMs`;
// - the relay pings every `wsPingIntervalMs` of silence and cuts a peer that has not answered
//   within `wsPongTimeoutMs`, so a half-open connection frees its slot in bounded time.
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { MAX_CHANNEL, MAX_PAYLOAD, MAX_TENANT, formatErr } from '@fastpubsub/wire';
import { ErrorCode } from '@fastpubsub/core';
import { frameText } from './frame.js';

/** v2 prefix (2) + tenant length (2) + tenant + channel length (2) + channel + payload (contract §3). */
export const MAX_WS_MESSAGE_BYTES = 2 + 2 + MAX_TENANT + 2 + MAX_CHANNEL + MAX_PAYLOAD;

/** RFC 6455 §7.4.1: the message is too big to process. */
const MESSAGE_TOO_BIG = 1009;
const POLICY_VIOLATION = 1008;

/**
 * ws closes with 1009 as soon as a frame header announces more than maxPayload; this subclass
 * lets the session put its ERR on the wire first, so a contract client sees why (§10.3).
 */
export class GuardedWebSocket extends WebSocket {
  onTooLarge: (() => void) | undefined;

  override close(code?: number, data?: string | Buffer): void {
    if (code === MESSAGE_TOO_BIG && this.readyState === WebSocket.OPEN) {
      const hook = this.onTooLarge;
      this.onTooLarge = undefined;
      hook?.();
    }
    super.close(code, data);
  }
}

/** What ws's Receiver exposes about a message in progress (ws 8 internals, read only). */
interface ReceiverState {
  _fragmented?: number;
  _bufferedBytes?: number;
}

export interface GuardLimits {
  wsMessageTimeoutMs: number;
  wsPingIntervalMs: number;
  wsPongTimeoutMs: number;
}

export type GuardVerdict = 'ok' | 'message_timeout' | 'pong_timeout';

/** The watch over one connection; the edge calls tick() for every session on one shared timer. */
export class ConnectionGuard {
  readonly #ws: WebSocket;
  readonly #limits: GuardLimits;
  #lastHeardMs: number;
  #pingSentMs: number | undefined;
  #messageSeenAtMs: number | undefined;

  constructor(ws: WebSocket, socket: Duplex, limits: GuardLimits, nowMs: number) {
    this.#ws = ws;
    this.#limits = limits;
    this.#lastHeardMs = nowMs;
    if (ws instanceof GuardedWebSocket) {
      // Written to the socket directly: ws is about to write its close frame, and nothing may
      // come between (the session's own writer may hold frames for the next tick).
      ws.onTooLarge = () => {
        if (!socket.destroyed) socket.write(frameText(formatErr(ErrorCode.PayloadTooLarge, `message over ${MAX_WS_MESSAGE_BYTES} bytes`)));
      };
    }
    ws.on('pong', () => this.heard(Date.now()));
  }

  /** Any complete message or pong proves the peer is there; a message also ends the one in progress. */
  heard(nowMs: number): void {
    this.#lastHeardMs = nowMs;
    this.#pingSentMs = undefined;
    this.#messageSeenAtMs = undefined;
  }

  tick(nowMs: number): GuardVerdict {
    const l = this.#limits;
    if (this.#messageInProgress()) {
      this.#messageSeenAtMs ??= nowMs;
      if (nowMs - this.#messageSeenAtMs >= l.wsMessageTimeoutMs) return 'message_timeout';
    } else {
      this.#messageSeenAtMs = undefined;
    }
    if (l.wsPingIntervalMs <= 0) return 'ok';
    if (this.#pingSentMs !== undefined) return nowMs - this.#pingSentMs >= l.wsPongTimeoutMs ? 'pong_timeout' : 'ok';
    if (nowMs - this.#lastHeardMs >= l.wsPingIntervalMs && this.#ws.readyState === WebSocket.OPEN) {
      this.#pingSentMs = nowMs;
      this.#ws.ping();
    }
    return 'ok';
  }

  /** Cuts the connection for a verdict: a close frame, and the socket itself soon after. */
  enforce(verdict: Exclude<GuardVerdict, 'ok'>): void {
    if (verdict === 'pong_timeout') {
      this.#ws.terminate(); // nobody is listening for a close frame
      return;
    }
    this.#ws.close(POLICY_VIOLATION, verdict);
    setTimeout(() => this.#ws.terminate(), 1000).unref();
  }

  #messageInProgress(): boolean {
    const r = (this.#ws as unknown as { _receiver?: ReceiverState })._receiver;
    return r !== undefined && ((r._fragmented ?? 0) !== 0 || (r._bufferedBytes ?? 0) > 0);
  }
}

/** The tick period: a quarter of the shortest bound, so each bound holds within 25 %. */
export function guardTickMs(l: GuardLimits): number {
  const bounds = [l.wsMessageTimeoutMs, l.wsPongTimeoutMs, ...(l.wsPingIntervalMs > 0 ? [l.wsPingIntervalMs] : [])];
  return Math.max(25, Math.floor(Math.min(...bounds) / 4));
}
