// Small SVG charts for the console, built with DOM calls only (labels are text nodes): a
// multi-series line chart over the last minute and a latency histogram.
import { svg } from '../shared/dom.js';

const PALETTE = ['#4fb3ff', '#ff6b6b', '#ffd166', '#3ddc97', '#c792ea', '#f78c6c', '#89ddff'];
const W = 600;
const H = 110;

/** Lines of [second, value] points over the 60 s ending at `nowSecond`, one colour per series. */
export function lineChart(series: [string, [number, number][]][], nowSecond: number, unit: string): SVGElement {
  const max = Math.max(1, ...series.flatMap(([, pts]) => pts.map((p) => p[1])));
  const x = (sec: number): string => (W - (nowSecond - sec) * (W / 60)).toFixed(1);
  const y = (v: number): string => (H - 4 - (v / max) * (H - 22)).toFixed(1);
  const shown = series.filter(([, pts]) => pts.some((p) => p[1] > 0));
  return svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${unit}, last 60 seconds` },
    ...shown.map(([, pts], i) => svg('polyline', { points: pts.map(([s, v]) => `${x(s)},${y(v)}`).join(' '), fill: 'none', stroke: PALETTE[i % PALETTE.length]!, 'stroke-width': 2 })),
    svg('text', { x: 4, y: 12, class: 'chart-label' }, `max ${max.toFixed(max < 10 ? 1 : 0)} ${unit}`),
    ...shown.map(([name], i) => svg('text', { x: W - 4, y: 12 + i * 12, class: 'chart-label', 'text-anchor': 'end', fill: PALETTE[i % PALETTE.length]! }, name)),
    shown.length === 0 ? svg('text', { x: W / 2, y: H / 2, class: 'chart-label', 'text-anchor': 'middle' }, 'none') : null,
  );
}

/** Bars per latency bucket (`counts` has one more entry than `boundsMs`: the overflow). */
export function histogram(boundsMs: number[], counts: number[]): SVGElement {
  const max = Math.max(1, ...counts);
  const n = counts.length;
  const bw = W / n;
  const label = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(0)}µs` : `${ms}ms`);
  return svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'publish to delivery latency histogram, last 60 seconds' },
    ...counts.map((c, i) => {
      const h = (c / max) * (H - 30);
      return svg('rect', { x: (i * bw + 1).toFixed(1), y: (H - 16 - h).toFixed(1), width: (bw - 2).toFixed(1), height: h.toFixed(1), fill: '#4fb3ff' }, svg('title', {}, `≤ ${i < boundsMs.length ? label(boundsMs[i]!) : '∞'}: ${c}`));
    }),
    ...[0, Math.floor(n / 2), n - 2].map((i) => svg('text', { x: (i * bw + bw / 2).toFixed(1), y: H - 3, class: 'chart-label', 'text-anchor': 'middle' }, `≤${label(boundsMs[i] ?? 0)}`)),
    svg('text', { x: 4, y: 12, class: 'chart-label' }, `${counts.reduce((a, b) => a + b, 0)} deliveries`),
  );
}
