// The agent's fabric-bound publishes while the tunnel is down. Local fan-out never waits for
// it (the Dispatcher delivers to local subscribers first); only the copy for the fabric is
// held, in a queue bounded by count and bytes (drop-oldest, counted), and handed to the mesh
// forwarder once the tunnel is up again. A message of another tenant than the agent's
// certificate names never leaves (counted): the PoP would refuse it anyway.
import type { DispatchMessage } from '../delivery/index.js';

type Forward = (msg: DispatchMessage) => boolean;

export interface FabricQueueOptions {
  tenant: string;
  maxMessages: number;
  maxBytes: number;
  /** True while the tunnel is up and settled (routes and interest learnt). */
  tunnelReady: () => boolean;
}

export interface FabricQueueCounters {
  queued: number;
  overflowDropped: number;
  otherTenantDropped: number;
  flushed: number;
}

/** Most queued publishes handed to the mesh per flush call, so one flush never stalls the loop. */
const FLUSH_BATCH = 2000;

export class FabricQueue {
  readonly counters: FabricQueueCounters = { queued: 0, overflowDropped: 0, otherTenantDropped: 0, flushed: 0 };
  readonly #o: FabricQueueOptions;
  readonly #items: DispatchMessage[] = [];
  #head = 0;
  #bytes = 0;
  #forward: Forward | undefined;

  constructor(o: FabricQueueOptions) {
    this.#o = o;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The mesh's forwarder (Mesh.start sets it through the wrapped delivery). */
  setForward(fn: Forward | undefined): void {
    this.#forward = fn;
  }

  /** The forwarder the Dispatcher calls: straight to the mesh when the tunnel is up, else queued. */
  send(msg: DispatchMessage): boolean {
    if (msg.tenant !== this.#o.tenant) {
      this.counters.otherTenantDropped++;
      return false;
    }
    if (this.length === 0 && this.#o.tunnelReady() && this.#forward !== undefined) return this.#forward(msg);
    this.#push(msg);
    return false;
  }

  /** Hands queued publishes to the mesh if the tunnel is ready; call periodically. */
  flush(): number {
    if (this.length === 0 || this.#forward === undefined || !this.#o.tunnelReady()) return 0;
    let n = 0;
    while (this.length > 0 && n < FLUSH_BATCH) {
      const msg = this.#shift();
      this.#forward(msg);
      n++;
    }
    this.counters.flushed += n;
    return n;
  }

  #push(msg: DispatchMessage): void {
    this.#items.push(msg);
    this.#bytes += msg.payload.byteLength;
    this.counters.queued++;
    while (this.length > this.#o.maxMessages || (this.#bytes > this.#o.maxBytes && this.length > 1)) {
      this.#shift();
      this.counters.overflowDropped++;
    }
  }

  #shift(): DispatchMessage {
    const msg = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as unknown as DispatchMessage;
    this.#head++;
    this.#bytes -= msg.payload.byteLength;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return msg;
  }
}
