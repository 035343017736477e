// The console's panels fed by the PoPs' tenant reports: per-PoP delivery charts (drops by
// reason, rate-limit refusals, latency histogram), where the tenant's clients connect (by PoP,
// by country, by User-Agent class), the busiest publishers and the bot-flagged connections.
// Redrawn on every report (about once a second per PoP); no timers of their own.
import { byId, el, replace } from '../shared/dom.js';
import { histogram, lineChart } from './charts.js';
import { PopHistory } from './pop-history.js';
import type { Traffic } from './traffic.js';

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
