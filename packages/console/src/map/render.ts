// Draws the model: the map (basemap image under an SVG overlay of links and PoPs), the pairs
// table with the overlay's gain, the PoP list and the anomaly list. Text only through dom.ts.
import { el, replace, svg } from '../shared/dom.js';
import type { Anomaly } from './anomalies.js';
import type { LinkView, NetworkModel, PopView } from './model.js';

/** The basemap's equirectangular frame (scripts/build.mjs draws basemap.svg in the same one). */
export const MAP_WIDTH = 1000;
export const MAP_HEIGHT = 500;
/** Anomalies this recent are marked on the map. */
const MARK_MS = 30_000;

export function project(lat: number, lon: number): [number, number] {
  return [((lon + 180) / 360) * MAP_WIDTH, ((90 - lat) / 180) * MAP_HEIGHT];
}

/** Colour by loss first (any real loss hurts more than latency), then by RTT. */
export function linkColour(l: LinkView): string {
  if (!l.up) return '#8a8f98';
  if ((l.loss ?? 0) >= 0.05) return '#d7263d';
  if ((l.loss ?? 0) >= 0.01) return '#f46036';
  const rtt = l.rttMs ?? 0;
  if (rtt < 100) return '#1b998b';
  if (rtt < 300) return '#c5a200';
  return '#e07a00';
}

const ms = (x: number | null): string => (x === null ? '–' : `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ms`);
const lossText = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const popName = (p: PopView | undefined, id: string): string => (p?.city ?? null) ?? id;

export function renderMap(root: SVGSVGElement, model: NetworkModel, now: number): void {
  const marked = new Set(model.anomalies.filter((a) => now - a.at < MARK_MS).flatMap((a) => a.pops));
  const at = (id: string): [number, number] | undefined => {
    const p = model.pops.get(id);
    return p === undefined || p.lat === null || p.lon === null ? undefined : project(p.lat, p.lon);
  };
  const layer = svg('g', { class: 'overlay' });
  for (const l of model.links()) {
    const a = at(l.a);
    const b = at(l.b);
    if (a === undefined || b === undefined) continue;
    const label = `${l.a}–${l.b}: ${l.up ? `RTT ${ms(l.rttMs)}, jitter ${ms(l.jitterMs)}, loss ${lossText(l.loss)}` : 'down'}`;
    layer.appendChild(
      svg(
        'g',
        { class: `link${l.up ? '' : ' down'}`, 'data-link': `${l.a}|${l.b}`, 'data-rtt': l.rttMs ?? '', 'data-up': String(l.up) },
        svg('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], stroke: linkColour(l) }, svg('title', {}, label)),
        svg('text', { x: (a[0] + b[0]) / 2, y: (a[1] + b[1]) / 2 - 4, class: 'link-label' }, l.up ? ms(l.rttMs) : 'down'),
      ),
    );
  }
  for (const p of model.pops.values()) {
    const xy = at(p.id);
    if (xy === undefined) continue;
    layer.appendChild(
      svg(
        'g',
        { class: `pop ${p.up ? 'up' : 'down'}${marked.has(p.id) ? ' marked' : ''}`, 'data-pop': p.id, 'data-status': p.up ? 'up' : 'down', transform: `translate(${xy[0].toFixed(1)} ${xy[1].toFixed(1)})` },
        marked.has(p.id) ? svg('circle', { r: 14, class: 'ring' }) : null,
        svg('circle', { r: 6 }, svg('title', {}, `${popName(p, p.id)} (${p.id}, ${p.region}): ${p.up ? 'up' : 'down'}`)),
        svg('text', { x: 9, y: 4, class: 'pop-label' }, popName(p, p.id)),
      ),
    );
  }
  const old = root.querySelector('g.overlay');
  if (old === null) root.appendChild(layer);
  else root.replaceChild(layer, old);
}

export function renderPairs(table: HTMLTableSectionElement, share: HTMLElement, model: NetworkModel): void {
  const rows = model.pairs().map((p) => {
    const improved = p.gainMs !== null && p.gainMs > 0.5;
    return el(
      'tr',
      { 'data-pair': `${p.from}>${p.to}`, 'data-gain-ms': p.gainMs === null ? '' : p.gainMs.toFixed(1), class: improved ? 'improved' : '' },
      el('td', {}, popName(model.pops.get(p.from), p.from), ' → ', popName(model.pops.get(p.to), p.to)),
      el('td', {}, p.path.join(' → ')),
      el('td', { class: 'num' }, ms(p.overlayMs)),
      el('td', { class: 'num' }, p.directMs === null ? 'no direct link' : ms(p.directMs)),
      // Positive: the overlay is that much faster than the direct link.
      el('td', { class: 'num' }, p.gainMs === null ? '–' : `${p.gainMs < 0 ? '−' : ''}${Math.abs(p.gainMs).toFixed(1)} ms`),
      el('td', { class: 'num' }, p.gainPct === null ? '–' : `${p.gainPct.toFixed(1)} %`),
    );
  });
  replace(table, ...rows);
  const s = model.improvedShare();
  replace(share, s.comparable === 0 ? 'No pair has a direct link to compare yet.' : `The overlay improves ${s.improved} of ${s.comparable} pairs (${((s.improved / s.comparable) * 100).toFixed(0)} %).`);
}

export function renderPops(list: HTMLElement, model: NetworkModel): void {
  replace(
    list,
    ...[...model.pops.values()].map((p) =>
      el('li', { 'data-pop': p.id, class: p.up ? 'up' : 'down' }, el('strong', {}, popName(p, p.id)), ` ${p.id} · ${p.region} · `, p.up ? 'up' : 'down', ` · ${p.connections} connections`),
    ),
  );
}

const KIND_TEXT: Record<Anomaly['kind'], string> = {
  rtt: 'RTT jump',
  loss: 'Loss spike',
  route: 'Route change',
  'pop-down': 'PoP down',
  'pop-up': 'PoP up',
  'link-down': 'Link down',
  'link-up': 'Link up',
};

export function renderAnomalies(list: HTMLElement, model: NetworkModel): void {
  const items = model.anomalies.slice(0, 50).map((a) =>
    el(
      'li',
      { 'data-kind': a.kind, class: a.kind },
      el('time', { datetime: new Date(a.at).toISOString() }, new Date(a.at).toLocaleTimeString()),
      ' ',
      el('strong', {}, KIND_TEXT[a.kind]),
      ' ',
      el('span', { class: 'place' }, a.place),
      ': ',
      a.magnitude,
    ),
  );
  if (items.length === 0) items.push(el('li', { class: 'none' }, 'No anomalies seen since this page opened.'));
  replace(list, ...items);
}
