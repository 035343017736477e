// Counters of refusals made by the hardening limits (pre-auth cuts, failed authentications,
// tenant capacity), exposed on scrape. Label values come from closed sets (edge names, reason
// enums), never from tenants, tokens or addresses, so the series count stays bounded.
import { Counter, type Registry } from 'prom-client';

export class RefusalCounters {
  readonly #counts = new Map<string, { labels: Record<string, string>; n: number }>();

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    const counts = this.#counts;
    new Counter({
      name,
      help,
      labelNames: [...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, n } of counts.values()) this.inc(labels, n);
      },
    });
  }

  inc(labels: Record<string, string>, n = 1): void {
    const key = JSON.stringify(labels);
    const cur = this.#counts.get(key);
    if (cur === undefined) this.#counts.set(key, { labels, n });
    else cur.n += n;
  }

  get(labels: Record<string, string>): number {
    return this.#counts.get(JSON.stringify(labels))?.n ?? 0;
  }
}
