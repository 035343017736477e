// transport 'auto': WebTransport when the browser has it and the path lets QUIC through, else
// WebSocket. The WebTransport attempt starts first; the WebSocket one starts as soon as it
// fails, or when it has not opened within the fallback delay — a few round trips of the
// edge's GET /v1/webtransport answer, so blocked UDP (no answer at all, never an error) costs
// about one more round trip, not the QUIC handshake timeout. The first to open wins; the other
// is closed.
import { ClientError, abortError } from '../errors.js';
import type { OpenParams, Transport, TransportConnection } from '../transport.js';

/** Delay before WebSocket joins: this many HTTP round trips (QUIC handshake + CONNECT + AUTH ≈ 3). */
const FALLBACK_RTTS = 4;
const MIN_FALLBACK_MS = 50;

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
      const fallback = new Promise<TransportConnection>((resolve, reject) => {
        void rtt.then((ms) => {
          const t = setTimeout(() => void startWs().then(resolve, reject), Math.max(MIN_FALLBACK_MS, FALLBACK_RTTS * ms));
          loser.signal.addEventListener('abort', () => clearTimeout(t), { once: true });
        });
        wt.catch(() => startWs().then(resolve, reject));
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
