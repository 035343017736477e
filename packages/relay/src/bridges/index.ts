// The bridges of a relay (config `bridges`): built at start, re-elected every ELECT_MS so one
// PoP at a time carries each bridge, closed with the relay.
import { ErrorCode, FpsError, type BridgeConfig, type Logger } from '@fastpubsub/core';
import type { Registry } from 'prom-client';
import type { Dispatcher } from '../delivery/index.js';
import { Bridge, type CarrierView } from './bridge.js';
import { Mapping } from './mapping.js';
import { BridgeMetrics } from './metrics.js';

export { MARKER_TENANT, markerChannel, type CarrierView } from './bridge.js';
export { MARK_HEADER } from './nats-bus.js';

const ELECT_MS = 250;
/**
 * With a mesh, no PoP elects itself before this long after start: the other PoPs' markers
 * arrive by interest gossip, and a PoP that saw only itself would carry a bridge another PoP
 * already carries (duplicates).
 */
const SETTLE_MS = 2000;

/** Checks every mapping (and that bridge ids are unique) before anything starts; throws FpsError config_invalid. */
export function validateBridges(configs: readonly BridgeConfig[]): void {
  const ids = new Set<string>();
  configs.forEach((b, i) => {
    if (ids.has(b.id)) throw new FpsError(ErrorCode.ConfigInvalid, `bridges[${i}].id: '${b.id}' is used twice`);
    ids.add(b.id);
    b.mappings.forEach((m, j) => {
      try {
        new Mapping(m, b.url.startsWith('nats://') ? 'nats' : 'redis');
      } catch (err) {
        throw new FpsError(ErrorCode.ConfigInvalid, `bridges[${i}].mappings[${j}]: ${(err as Error).message}`);
      }
    });
  });
}

export interface Bridges {
  readonly list: readonly Bridge[];
  close(): Promise<void>;
}

export function startBridges(configs: readonly BridgeConfig[], deps: { dispatcher: Dispatcher; registry: Registry; logger: Logger; carrier: () => CarrierView }): Bridges {
  const list: Bridge[] = [];
  const metrics = new BridgeMetrics(deps.registry, () => list.map((b) => ({ id: b.id, up: b.up, carrier: b.carrier })));
  for (const c of configs) list.push(new Bridge(c, deps.dispatcher, metrics, deps.logger.child({ bridge: c.id })));
  const startedAt = Date.now();
  const elect = (): void => {
    const view = deps.carrier();
    if (view.selfId !== undefined && Date.now() - startedAt < SETTLE_MS) return;
    for (const b of list) b.elect(view);
  };
  elect();
  const timer = list.length === 0 ? undefined : setInterval(elect, ELECT_MS);
  timer?.unref();
  return {
    list,
    async close() {
      if (timer !== undefined) clearInterval(timer);
      await Promise.all(list.map((b) => b.close()));
    },
  };
}
