// Outbound webhooks: every PoP knows every outbound hook, but a message is delivered only by
// the PoP where it entered the fabric (its origin PoP). The dispatcher calls observe() for
// publishes its own edges (WebSocket, QUIC, HTTPS, MQTT, bridges) accepted, never for messages
// that arrived over the mesh (those go through deliverRemote), and each message has exactly one
// origin PoP, so exactly one PoP POSTs it, with no coordination per message. docs/webhooks.md
// states the limits (a PoP that dies loses its queue; a timed-out POST may have arrived).
import { randomBytes } from 'node:crypto';
import type { Logger } from '@fastpubsub/core';
import type { HookCounts, OutboundHook } from '@fastpubsub/protocol';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DispatchMessage } from '../delivery/index.js';
import { matchesPattern } from '../fanout/index.js';
import { HookDeliverer, type DelivererOptions, type DropReason } from './deliverer.js';

export interface OutboundOptions {
  registry: Registry;
  logger: Logger;
  now: () => number;
  random?: () => number;
  /** http:// targets beyond loopback (default false: https, or http to 127.0.0.0/8, ::1, localhost). */
  allowHttp?: boolean;
  maxQueuePerHook?: number;
  maxInFlightPerHook?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

export const OUTBOUND_DEFAULTS = Object.freeze({ maxQueuePerHook: 1000, maxInFlightPerHook: 16, backoffBaseMs: 500, backoffCapMs: 30_000 });

const TEXT = new TextDecoder('utf-8', { fatal: true });

export class OutboundHooks {
  readonly #o: OutboundOptions;
  readonly #deliverers = new Map<string, HookDeliverer>();
  /** tenant → its deliverers, so a publish looks only at its own tenant's hooks. */
  #byTenant = new Map<string, HookDeliverer[]>();
  readonly #refusedTargets = new Set<string>();
  readonly #results: Counter<'result'>;
  readonly #drops: Counter<'reason'>;

  constructor(o: OutboundOptions) {
    this.#o = o;
    this.#results = new Counter({
      name: 'fastpubsub_webhook_deliveries_total',
      help: 'Outbound webhook delivery outcomes at this PoP: delivered, retried (an attempt failed and another is scheduled), dropped.',
      labelNames: ['result'],
      registers: [o.registry],
    });
    for (const result of ['delivered', 'retried', 'dropped']) this.#results.inc({ result }, 0);
    this.#drops = new Counter({
      name: 'fastpubsub_webhook_dropped_total',
      help: 'Outbound webhook messages dropped, by reason (retry_window, queue_full, target_not_allowed, closed).',
      labelNames: ['reason'],
      registers: [o.registry],
    });
    const deliverers = this.#deliverers;
    new Gauge({
      name: 'fastpubsub_webhook_queued',
      help: 'Outbound webhook messages held in memory (queued, in flight, waiting to retry).',
      registers: [o.registry],
      collect() {
        let n = 0;
        for (const d of deliverers.values()) n += d.held;
        this.set(n);
      },
    });
  }

  /** Replaces the set of hooks: new ones start, removed ones stop (dropping what they hold). */
  setHooks(hooks: readonly OutboundHook[]): void {
    const next = new Set(hooks.map((h) => h.id));
    for (const [id, d] of this.#deliverers) {
      if (!next.has(id)) {
        d.close();
        this.#deliverers.delete(id);
      }
    }
    for (const h of hooks) {
      const d = this.#deliverers.get(h.id);
      if (d !== undefined) d.update(h);
      else this.#deliverers.set(h.id, new HookDeliverer(h, this.#delivererOptions()));
    }
    const byTenant = new Map<string, HookDeliverer[]>();
    for (const d of this.#deliverers.values()) {
      const list = byTenant.get(d.hook.tenant);
      if (list === undefined) byTenant.set(d.hook.tenant, [d]);
      else list.push(d);
    }
    this.#byTenant = byTenant;
  }

  /** A publish accepted at this PoP: queued for every hook of its tenant whose pattern matches. */
  observe(msg: DispatchMessage): void {
    const hooks = this.#byTenant.get(msg.tenant);
    if (hooks === undefined) return;
    let body: string | undefined;
    let id: string | undefined;
    for (const d of hooks) {
      if (!matchesPattern(d.hook.pattern, msg.channel)) continue;
      if (!this.#targetAllowed(d.hook)) {
        this.#count('dropped', 'target_not_allowed');
        continue;
      }
      id ??= msg.id === undefined ? randomBytes(16).toString('hex') : Buffer.from(msg.id).toString('hex');
      body ??= envelope(msg, id, this.#o.now());
      d.enqueue(`msg_${id}`, body);
    }
  }

  /** Cumulative counts per hook at this PoP process (reported to the control plane). */
  counts(): Record<string, HookCounts> {
    const out: Record<string, HookCounts> = {};
    for (const [id, d] of this.#deliverers) out[id] = { ...d.counts };
    return out;
  }

  close(): void {
    for (const d of this.#deliverers.values()) d.close();
    this.#deliverers.clear();
    this.#byTenant.clear();
  }

  #delivererOptions(): DelivererOptions {
    const o = this.#o;
    return {
      maxQueue: o.maxQueuePerHook ?? OUTBOUND_DEFAULTS.maxQueuePerHook,
      maxInFlight: o.maxInFlightPerHook ?? OUTBOUND_DEFAULTS.maxInFlightPerHook,
      backoffBaseMs: o.backoffBaseMs ?? OUTBOUND_DEFAULTS.backoffBaseMs,
      backoffCapMs: o.backoffCapMs ?? OUTBOUND_DEFAULTS.backoffCapMs,
      now: o.now,
      random: o.random ?? Math.random,
      count: (result, reason) => this.#count(result, reason),
    };
  }

  #count(result: keyof HookCounts, reason?: DropReason | 'target_not_allowed'): void {
    this.#results.inc({ result });
    if (reason !== undefined) this.#drops.inc({ reason });
  }

  /** https always; http only to loopback unless allowHttp. Logged once per hook. */
  #targetAllowed(hook: OutboundHook): boolean {
    if (isAllowedTarget(hook.url, this.#o.allowHttp === true)) return true;
    if (!this.#refusedTargets.has(hook.id)) {
      this.#refusedTargets.add(hook.id);
      this.#o.logger.warn('outbound webhook target refused: http:// only to loopback unless webhooks.allowHttp', { hook: hook.id });
    }
    return false;
  }
}

export function isAllowedTarget(url: string, allowHttp: boolean): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  if (u.protocol !== 'http:') return false;
  if (allowHttp) return true;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The delivered body (JSON): `{"type":"message.published","timestamp":…,"data":{tenant,
 * channel, id, text | base64}}`: `text` when the payload is UTF-8, else `base64`. The
 * signature covers all of it, the channel included.
 */
export function envelope(msg: DispatchMessage, id: string, nowMs: number): string {
  let payload: { text: string } | { base64: string };
  try {
    payload = { text: TEXT.decode(msg.payload) };
  } catch {
    payload = { base64: Buffer.from(msg.payload).toString('base64') };
  }
  const data = { tenant: msg.tenant, channel: msg.channel, id, ...payload };
  return JSON.stringify({ type: 'message.published', timestamp: new Date(nowMs).toISOString(), data });
}
