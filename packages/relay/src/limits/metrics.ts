// Exposes an Admission's refusal counters as `fastpubsub_rate_limited_total{scope}`, read only
// when Prometheus scrapes (the hot path increments a plain number). Labels are the bounded
// LimitScope set: no tenant or channel labels.
import { Counter, type Registry } from 'prom-client';
import type { Admission, LimitScope } from './admission.js';

export function registerAdmissionMetrics(registry: Registry, admission: Admission): void {
  new Counter({
    name: 'fastpubsub_rate_limited_total',
    help: 'Publishes and connections refused by limits, by scope (tenant, channel, quota, connections, ip).',
    labelNames: ['scope'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [scope, n] of Object.entries(admission.refused) as Array<[LimitScope, number]>) this.inc({ scope }, n);
    },
  });
}
