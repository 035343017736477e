// One connection of the client core, whatever its transport: its role in a make-before-break
// switch, the subscriptions it confirmed, and its heartbeat.
import type { Clock } from './clock.js';
import { ClientError, withSignal } from './errors.js';
import type { Edge } from './endpoint.js';
import type { Heartbeat } from './heartbeat.js';
import type { TransportConnection } from './transport.js';

export class Conn {
  link: TransportConnection | undefined;
  alive = true;
  role: 'pending' | 'active' | 'draining' = 'pending';
  /** Subscription keys (subKey) this connection has an OK:SUB for. */
  readonly confirmed = new Set<string>();
  /** Keys still waiting for OK:SUB before a pending connection can take over. */
  readonly awaiting = new Set<string>();
  /** SUBs this connection refused: the inert OK:SUB that follows the ERR (contract §11.8) confirms nothing. */
  readonly refused = new Set<string>();
  allConfirmed: (() => void) | undefined;
  failed: ((e: Error) => void) | undefined;
  heartbeat: Heartbeat | undefined;
  drainTimer: unknown;
  constructor(readonly edge: Edge) {}

  /** Resolves once every awaited SUB is confirmed; rejects after `timeoutMs`, on failed(), or on abort. */
  async confirmations(timeoutMs: number, clock: Clock, signal: AbortSignal): Promise<void> {
    if (this.awaiting.size === 0) return;
    let timer: unknown;
    try {
      await withSignal(
        new Promise<void>((resolve, reject) => {
          this.allConfirmed = resolve;
          this.failed = reject;
          timer = clock.setTimeout(() => reject(new ClientError('timeout', `no OK:SUB for ${this.awaiting.size} subscription(s) within ${timeoutMs} ms`)), timeoutMs);
        }),
        signal,
      );
    } finally {
      clock.clearTimeout(timer);
    }
  }

  /** `key` no longer blocks a takeover (confirmed or gone); the last one releases it. */
  settle(key: string): void {
    if (this.awaiting.delete(key) && this.awaiting.size === 0) this.allConfirmed?.();
  }
}
