// The bounded publish queue used while no connection is active.
import { ClientError } from './errors.js';
import type { QueuePolicy } from './options.js';
import type { DeliveryMode } from './transport.js';

export interface QueuedPublish {
  tenant: string;
  channel: string;
  payload: Uint8Array;
  mode: DeliveryMode;
}

export class PublishQueue {
  private items: QueuedPublish[] = [];

  constructor(
    private readonly max: number,
    private readonly policy: QueuePolicy,
    private readonly stats: { queued: number; queueDropped: number },
  ) {}

  get size(): number {
    return this.items.length;
  }

  push(item: QueuedPublish): void {
    if (this.items.length >= this.max) {
      if (this.policy === 'error') throw new ClientError('queue_full', `publish queue is full (${this.max} messages) while disconnected`);
      this.stats.queueDropped++;
      if (this.policy === 'drop-newest' || this.max === 0) return;
      this.items.shift();
    }
    this.items.push(item);
    this.stats.queued = this.items.length;
  }

  drain(send: (item: QueuedPublish) => void): void {
    const items = this.items;
    this.items = [];
    this.stats.queued = 0;
    for (const item of items) send(item);
  }

  clear(): void {
    this.items = [];
    this.stats.queued = 0;
  }
}
