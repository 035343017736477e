// flush(): wait until every publish so far is on its way to the network. The offline publish
// queue empties when a connection comes up; after that the connection's own write events say
// when its bytes have left. Only the browser's WebSocket reports no write completion at all, so
// there (and only there) `bufferedAmount` is watched every 5 ms.
import { ClientError, abortError, sleep, withSignal } from './errors.js';
import type { TransportConnection } from './transport.js';

/** What flush() reads from the client. */
export interface FlushView {
  /** Aborted when the client closes; its reason is the close error. */
  readonly closed: AbortSignal;
  /** The connection publishes go to now, if any. */
  link(): TransportConnection | undefined;
  /** Publishes waiting in the offline queue. */
  queued(): number;
  /** Subscribes to the client's 'connected' event; returns the unsubscribe function. */
  onConnected(listener: () => void): () => void;
}

const BROWSER_POLL_MS = 5;

export async function waitFlushed(view: FlushView, signal: AbortSignal | undefined): Promise<void> {
  while (!view.closed.aborted) {
    if (signal?.aborted) throw abortError(signal);
    const link = view.link();
    if (link === undefined || view.queued() > 0) {
      await withSignal(nextConnected(view), signal);
      continue;
    }
    const drained = link.drained?.();
    if (drained === undefined) {
      if (link.bufferedAmount === 0) return;
      await sleep(BROWSER_POLL_MS, signal);
      continue;
    }
    await withSignal(drained, signal);
    // The connection may have been replaced meanwhile (its unsent bytes are then gone with it,
    // and later publishes went to the new one): check again.
    if (view.link() === link && view.queued() === 0) return;
  }
  const reason: unknown = view.closed.reason;
  throw reason instanceof ClientError ? reason : new ClientError('closed', 'client closed');
}

/** The next 'connected' event, or the client's close, whichever comes first. */
function nextConnected(view: FlushView): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      off();
      view.closed.removeEventListener('abort', done);
      resolve();
    };
    const off = view.onConnected(done);
    view.closed.addEventListener('abort', done, { once: true });
  });
}
