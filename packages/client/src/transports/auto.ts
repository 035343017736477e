// transport 'auto': WebTransport when the browser has it and the path lets QUIC through, else
// WebSocket. The WebTransport attempt starts first; the WebSocket one starts as soon as it
// fails, or when it has not opened within the fallback delay — a few round trips of the
// edge's GET /v1/webtransport answer, and at least RFC 8305's 250 ms connection-attempt delay,
// so blocked UDP (no answer at all, never an error) costs that delay, not the QUIC handshake
// timeout. WebTransport is preferred: if WebSocket opens first, WebTransport gets one more
// such delay to finish (a cold browser's first QUIC session takes a few hundred ms on loopback
// already); then the first to open wins and the other is closed.
import { ClientError, abortError } from '../errors.js';
import type { OpenParams, Transport, TransportConnection } from '../transport.js';

/** Delay before WebSocket joins: this many HTTP round trips (QUIC handshake + CONNECT + AUTH ≈ 3). */
const FALLBACK_RTTS = 4;
/** RFC 8305 §5's recommended connection-attempt delay. */
const MIN_FALLBACK_MS = 250;

export function autoTransport(webTransport: Transport, webSocket: Transport, hasWebTransport: () => boolean): Transport {
  return {
    name: 'auto',
    async open(params: OpenParams): Promise<TransportConnection> {
      if (!hasWebTransport()) return webSocket.open(params);
      if (params.signal?.aborted) throw abortError(params.signal);
      const loser = new AbortController();
      const onAbort = (): void => loser.abort();
      params.signal?.addEventListener('abort', onAbort, { once: true });
      const started = Date.now();
      // The WebTransport transport's first step is GET /v1/webtransport; time a /ping for the RTT.
      // 'no-cors': only the timing matters, not the (opaque) answer.
      const rtt = fetch(new URL('/ping', params.edge.httpUrl), { signal: loser.signal, mode: 'no-cors' }).then(
        () => Date.now() - started,
        () => 0,
      );
      let wsStarted: Promise<TransportConnection> | undefined;
      const startWs = (): Promise<TransportConnection> => (wsStarted ??= webSocket.open({ ...params, signal: loser.signal }));
      const wt = webTransport.open({ ...params, signal: loser.signal });
      let wtFailed = false;
      const fallback = new Promise<TransportConnection>((resolve, reject) => {
        void rtt.then((ms) => {
          const delayMs = Math.max(MIN_FALLBACK_MS, FALLBACK_RTTS * ms);
          const t = setTimeout(() => {
            void startWs().then((ws) => {
              // WebTransport still on its way: give it one more delay before settling for WebSocket.
              if (wtFailed) return resolve(ws);
              const grace = setTimeout(() => resolve(ws), delayMs);
              loser.signal.addEventListener('abort', () => clearTimeout(grace), { once: true });
            }, reject);
          }, delayMs);
          loser.signal.addEventListener('abort', () => clearTimeout(t), { once: true });
        });
        wt.catch(() => {
          wtFailed = true;
          startWs().then(resolve, reject);
        });
      });
      try {
        const winner = await Promise.any([wt, fallback]);
        // Close whichever also opened (or opens later).
        for (const p of [wt, wsStarted]) void p?.then((c) => c !== winner && c.close(), () => undefined);
        return winner;
      } catch (err) {
        const errors = err instanceof AggregateError ? err.errors : [err];
        const last: unknown = errors[errors.length - 1];
        throw last instanceof ClientError ? last : new ClientError('connect_failed', String(last));
      } finally {
        params.signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
