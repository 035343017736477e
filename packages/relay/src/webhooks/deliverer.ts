// One outbound hook's deliveries: a bounded in-memory queue, at most `maxInFlight` POSTs at a
// time, each with its own timeout, retried with exponential backoff and full jitter until the
// retry window (counted from when the message was published) runs out; then the message is
// dropped and counted. Nothing is written to disk. A target that hangs or fails holds only its
// own hook's slots: other hooks have their own deliverers.
import type { HookCounts, OutboundHook } from '@fastpubsub/protocol';
import { signStandard } from './signatures.js';

export interface DelivererOptions {
  /** Messages held per hook (queued, in flight and waiting to retry); past it new ones are dropped. */
  maxQueue: number;
  /** Concurrent POSTs per hook. */
  maxInFlight: number;
  /** First backoff step and the cap of one backoff, ms. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Wall clock (ms since the epoch): webhook-timestamp and the retry window. */
  now: () => number;
  random: () => number;
  /** Counts each outcome: 'delivered' | 'retried' | 'dropped' with a reason for drops. */
  count: (result: keyof HookCounts, reason?: DropReason) => void;
}

export type DropReason = 'retry_window' | 'queue_full' | 'closed';

interface Pending {
  readonly id: string;
  readonly body: string;
  readonly publishedAtMs: number;
  attempts: number;
}

export class HookDeliverer {
  #hook: OutboundHook;
  readonly #o: DelivererOptions;
  readonly #ready: Pending[] = [];
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  readonly #abort = new AbortController();
  readonly counts: HookCounts = { delivered: 0, retried: 0, dropped: 0 };
  #held = 0;
  #inFlight = 0;
  #closed = false;

  constructor(hook: OutboundHook, o: DelivererOptions) {
    this.#hook = hook;
    this.#o = o;
  }

  get hook(): OutboundHook {
    return this.#hook;
  }

  /** A changed URL, secret or timeout applies from the next attempt. */
  update(hook: OutboundHook): void {
    this.#hook = hook;
  }

  /** Messages held now (queued, in flight, waiting to retry). */
  get held(): number {
    return this.#held;
  }

  enqueue(id: string, body: string): void {
    if (this.#closed) return;
    if (this.#held >= this.#o.maxQueue) {
      this.#drop('queue_full');
      return;
    }
    this.#held++;
    this.#ready.push({ id, body, publishedAtMs: this.#o.now(), attempts: 0 });
    this.#pump();
  }

  /** Stops every attempt and timer; what is still held is dropped and counted. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    const left = this.#held - this.#inFlight;
    for (let i = 0; i < left; i++) this.#drop('closed');
    this.#ready.length = 0;
    this.#held = this.#inFlight;
  }

  #pump(): void {
    while (!this.#closed && this.#inFlight < this.#o.maxInFlight && this.#ready.length > 0) {
      const p = this.#ready.shift() as Pending;
      this.#inFlight++;
      void this.#attempt(p).then((ok) => {
        this.#inFlight--;
        if (ok) {
          this.#held--;
          this.counts.delivered++;
          this.#o.count('delivered');
        } else if (this.#closed) {
          this.#held--;
          this.#drop('closed');
        } else {
          this.#retryLater(p);
        }
        this.#pump();
      });
    }
  }

  /** One POST; true on a 2xx answer within the hook's timeout. */
  async #attempt(p: Pending): Promise<boolean> {
    p.attempts++;
    const hook = this.#hook;
    const ts = Math.floor(this.#o.now() / 1000);
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'FastPubSub-Webhooks/1',
          'webhook-id': p.id,
          'webhook-timestamp': String(ts),
          'webhook-signature': signStandard(hook.secret, p.id, ts, p.body),
        },
        body: p.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(hook.timeoutMs)]),
      });
      await res.body?.cancel().catch(() => undefined);
      return res.status >= 200 && res.status < 300;
    } catch {
      return false; // refused, reset, timed out or closed: all retried alike
    }
  }

  /** Full jitter: a uniform wait in [0, min(cap, base·2^(attempts-1))), unless past the window. */
  #retryLater(p: Pending): void {
    const o = this.#o;
    const ceiling = Math.min(o.backoffCapMs, o.backoffBaseMs * 2 ** Math.min(p.attempts - 1, 30));
    const wait = Math.floor(o.random() * ceiling);
    if (o.now() + wait - p.publishedAtMs > this.#hook.retryWindowMs) {
      this.#held--;
      this.#drop('retry_window');
      return;
    }
    this.counts.retried++;
    o.count('retried');
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      this.#ready.push(p);
      this.#pump();
    }, wait);
    timer.unref();
    this.#retryTimers.add(timer);
  }

  #drop(reason: DropReason): void {
    this.counts.dropped++;
    this.#o.count('dropped', reason);
  }
}
