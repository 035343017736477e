// The control plane's operations over a ControlStore: tenants, master tokens, signed access
// tokens (contract §7 bodies), limits, signing-key rotation, the PoP registry and usage.
// Stateless apart from the WatchHub's cache, so several instances can share one etcd cluster.
import type { Logger } from '@fastpubsub/core';
import type { RateDefaults } from '@fastpubsub/protocol';
import type { WatchHub } from './hub.js';
import { Registry } from './registry.js';
import type { ServiceContext } from './service-common.js';
import type { ControlStore } from './store/store.js';
import { Hooks } from './hooks.js';
import { Tenants } from './tenants.js';
import { Tokens } from './tokens.js';

export type { Principal } from './service-common.js';
export { parseLimits } from './tenants.js';

export interface ControlServiceOptions {
  store: ControlStore;
  now: () => number;
  popLeaseMs: number;
  hub: WatchHub;
  /** Rates for tickets that omit them (contract §11.7); default 16384 KB/s each way. */
  rateDefaults?: RateDefaults;
  /** Tickets minted without rate limits are logged here (info). */
  logger?: Logger;
}

/** The control plane's operations, by concern. */
export class ControlService {
  readonly store: ControlStore;
  readonly hub: WatchHub;
  readonly tenants: Tenants;
  readonly tokens: Tokens;
  readonly registry: Registry;
  readonly hooks: Hooks;

  constructor(o: ControlServiceOptions) {
    this.store = o.store;
    this.hub = o.hub;
    const c: ServiceContext = { store: o.store, hub: o.hub, now: o.now };
    this.tenants = new Tenants(c);
    this.tokens = new Tokens(c, { rateDefaults: o.rateDefaults, logger: o.logger });
    this.registry = new Registry(c, o.popLeaseMs);
    this.hooks = new Hooks(c, (tenant) => this.tenants.getTenant(tenant));
  }
}
