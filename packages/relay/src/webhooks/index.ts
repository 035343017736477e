// Webhooks at a PoP (docs/webhooks.md): inbound hooks publish verified HTTP requests,
// outbound hooks POST matching messages that entered the fabric here. The hooks come from the
// control plane's watch stream; node.ts wires this to the dispatcher, the HTTP router and the
// control client. Imports the delivery, limits and fanout folders only.
import type { Logger } from '@fastpubsub/core';
import type { HookCounts, HookDef, InboundHook, OutboundHook } from '@fastpubsub/protocol';
import type { Registry } from 'prom-client';
import type { DispatchMessage } from '../delivery/index.js';
import type { Admission } from '../limits/index.js';
import { InboundHooks, type HookHandler } from './inbound.js';
import { OutboundHooks, type OutboundOptions } from './outbound.js';

export { verifyInbound, signStandard, TIMESTAMP_TOLERANCE_SECONDS } from './signatures.js';
export { isAllowedTarget, envelope, OUTBOUND_DEFAULTS } from './outbound.js';
export { channelFromBody } from './inbound.js';

export interface WebhooksOptions {
  dispatcher: { publish(msg: DispatchMessage): boolean };
  admission?: Admission | undefined;
  maxPayloadBytes: number;
  registry: Registry;
  logger: Logger;
  /** Wall clock, ms since the epoch. */
  now: () => number;
  outbound?: Omit<OutboundOptions, 'registry' | 'logger' | 'now'>;
}

export class Webhooks {
  readonly #inbound: InboundHooks;
  readonly #outbound: OutboundHooks;

  constructor(o: WebhooksOptions) {
    this.#inbound = new InboundHooks({ dispatcher: o.dispatcher, admission: o.admission, maxPayloadBytes: o.maxPayloadBytes, now: o.now, registry: o.registry });
    this.#outbound = new OutboundHooks({ ...o.outbound, registry: o.registry, logger: o.logger, now: o.now });
  }

  /** Every tenant's hooks, as the control plane pushed them (a full list each time). */
  setHooks(hooks: readonly HookDef[]): void {
    this.#inbound.setHooks(hooks.filter((h): h is InboundHook => h.direction === 'in'));
    this.#outbound.setHooks(hooks.filter((h): h is OutboundHook => h.direction === 'out'));
  }

  /** The HTTP route: `POST /v1/hooks/{hookId}`. */
  route(): { prefix: string; methods: { POST: (rest: string) => HookHandler } } {
    return { prefix: '/v1/hooks/', methods: { POST: (rest) => this.#inbound.handler(rest) } };
  }

  /** A publish accepted by this PoP's edges (never one that came over the mesh). */
  observe(msg: DispatchMessage): void {
    this.#outbound.observe(msg);
  }

  /** Cumulative outbound counts per hook, for the control plane's hook status. */
  counts(): Record<string, HookCounts> {
    return this.#outbound.counts();
  }

  close(): void {
    this.#outbound.close();
  }
}
