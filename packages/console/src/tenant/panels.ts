// The console's panels fed by the PoPs' tenant reports: per-PoP delivery charts (drops by
// reason, rate-limit refusals, latency histogram), where the tenant's clients connect (by PoP,
// by country, by User-Agent class), the busiest publishers and the bot-flagged connections.
// Redrawn on every report (about once a second per PoP); no timers of their own.
import { byId, el, replace, svg } from '../shared/dom.js';
import { histogram, lineChart } from './charts.js';
import { PopHistory } from './pop-history.js';
import type { Traffic } from './traffic.js';

/** Country → [x, y] on the basemap (countries.json, made by the build); empty until loaded. */
let countryPoints: Record<string, [number, number]> = {};

/** Loads the country points once (a static file of the build, not live data). */
export async function loadCountryPoints(): Promise<void> {
  try {
    const res = await fetch('countries.json', { signal: AbortSignal.timeout(5000) });
    const v = (await res.json()) as Record<string, unknown>;
    const ok = Object.entries(v).filter((e): e is [string, [number, number]] => /^[A-Z]{2}$/.test(e[0]) && Array.isArray(e[1]) && e[1].length === 2 && e[1].every((n) => typeof n === 'number'));
    countryPoints = Object.fromEntries(ok);
  } catch {
    countryPoints = {}; // the lists below the map still show every country
  }
}

export function drawPopCharts(history: PopHistory, now: number): void {
  const second = Math.floor(now / 1000);
  replace(
    byId('pop-charts'),
    ...history.pops().map(([pop, s]) =>
      el(
        'article',
        { class: 'pop-card', 'data-pop': pop, 'data-drops': String(PopHistory.latest(s.drops)), 'data-refusals': String(PopHistory.latest(s.refusals)) },
        el('h3', {}, pop),
        el('p', { class: 'muted' }, `drops ${PopHistory.latest(s.drops).toFixed(1)}/s by reason`),
        lineChart([...s.drops], second, 'drops/s'),
        el('p', { class: 'muted' }, `rate-limit refusals ${PopHistory.latest(s.refusals).toFixed(1)}/s by limit`),
        lineChart([...s.refusals], second, 'refusals/s'),
        el('p', { class: 'muted' }, 'publish → delivery latency, last 60 s'),
        histogram(s.latencyBoundsMs, PopHistory.latencyTotals(s)),
      ),
    ),
  );
}

function bars(rows: [string, number][], label: (key: string) => string, attr: string): HTMLElement[] {
  const max = Math.max(1, ...rows.map(([, n]) => n));
  return rows.map(([key, n]) =>
    el('li', { [attr]: key }, el('span', { class: 'bar-label' }, label(key)), el('span', { class: 'bar', style: `width:${((n / max) * 100).toFixed(0)}%` }), el('span', { class: 'num' }, String(n))),
  );
}

export function drawClients(traffic: Traffic, now: number): void {
  const fresh = traffic.fresh(now);
  replace(byId('by-pop'), ...bars(fresh.map((r) => [r.pop, r.connections] as [string, number]).sort((a, b) => b[1] - a[1]), (p) => p, 'data-pop'));
  replace(byId('by-country'), ...bars(traffic.tally(now, 'countries'), (c) => (c === 'unknown' ? 'unknown (private or unlisted address)' : c), 'data-country'));
  const countries = traffic.tally(now, 'countries');
  const most = Math.max(1, ...countries.map(([, n]) => n));
  replace(
    byId('country-dots'),
    ...countries.flatMap(([code, n]) => {
      const p = countryPoints[code];
      if (p === undefined) return [];
      return [svg('g', { class: 'country-dot', 'data-country': code }, svg('circle', { cx: p[0], cy: p[1], r: (4 + 14 * Math.sqrt(n / most)).toFixed(1) }), svg('text', { x: p[0], y: p[1] - 20, class: 'pop-label', 'text-anchor': 'middle' }, `${code} ${n}`))];
    }),
  );
  replace(byId('by-agent'), ...bars(traffic.tally(now, 'agents'), (a) => a, 'data-agent'));
  replace(
    byId<HTMLTableSectionElement>('publishers'),
    ...traffic.publishers(now, 10).map((p) => el('tr', { 'data-token-id': p.tokenId }, el('td', {}, p.tokenId), el('td', { class: 'num' }, p.messagesPerSec.toFixed(1)), el('td', {}, p.pops.join(', ')))),
  );
  replace(
    byId<HTMLTableSectionElement>('flagged'),
    ...fresh.flatMap((r) =>
      r.flagged.map((f) =>
        el('tr', { 'data-token-id': f.tokenId, 'data-flags': f.flags.join(' ') }, el('td', {}, `${r.pop} #${f.id}`), el('td', {}, f.edge), el('td', {}, f.country), el('td', {}, f.agent), el('td', {}, f.tokenId), el('td', {}, f.flags.join(', '))),
      ),
    ),
  );
}
