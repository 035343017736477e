#!/usr/bin/env node
// Builds the console's static site into dist/: the pages and stylesheet, one minified ESM
// bundle per page (esbuild, platform browser, the browser SDK inlined), and basemap.svg, the
// world's land drawn once here from world-atlas (Natural Earth 1:110m) in the map's
// equirectangular frame, so the page fetches nothing from outside at run time.
import { build } from 'esbuild';
import { geoCentroid, geoEquirectangular, geoPath } from 'd3-geo';
import isoCountries from 'i18n-iso-countries';
import { feature } from 'topojson-client';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const dist = here('dist');
const WIDTH = 1000; // keep in step with src/map/render.ts MAP_WIDTH / MAP_HEIGHT
const HEIGHT = 500;

export const PAGES = { 'map.js': 'src/map/main.ts', 'tenant.js': 'src/tenant/main.ts' };

export async function buildConsole({ outDir = dist } = {}) {
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: Object.fromEntries(Object.entries(PAGES).map(([out, src]) => [out.replace(/\.js$/, ''), here(src)])),
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    conditions: ['development'],
    logLevel: 'silent',
    metafile: true,
  });
  await copyFile(here('src/map/index.html'), `${outDir}/index.html`);
  await copyFile(here('src/tenant/tenant.html'), `${outDir}/tenant.html`);
  await copyFile(here('src/shared/style.css'), `${outDir}/style.css`);
  await writeFile(`${outDir}/basemap.svg`, await basemap());
  await writeFile(`${outDir}/countries.json`, await countryCentroids());
  return result.metafile;
}

async function basemap() {
  const topo = JSON.parse(await readFile(fileURLToPath(import.meta.resolve('world-atlas/land-110m.json')), 'utf8'));
  const land = feature(topo, topo.objects.land);
  const projection = geoEquirectangular().scale(WIDTH / (2 * Math.PI)).translate([WIDTH / 2, HEIGHT / 2]);
  const d = geoPath(projection).digits(1)(land);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}"><path fill="#2b4257" stroke="#3d5a75" stroke-width="0.5" d="${d}"/></svg>\n`;
}

/**
 * Where to draw each country on the tenant console's connection map: `{ "DE": [x, y], … }`, the
 * centroid of its Natural Earth 1:110m shape in the basemap's frame, keyed by ISO 3166-1
 * alpha-2 (the GeoIP data's codes; world-atlas ids are ISO numeric). Countries too small for
 * 1:110m have no point and are only listed.
 */
async function countryCentroids() {
  const topo = JSON.parse(await readFile(fileURLToPath(import.meta.resolve('world-atlas/countries-110m.json')), 'utf8'));
  const projection = geoEquirectangular().scale(WIDTH / (2 * Math.PI)).translate([WIDTH / 2, HEIGHT / 2]);
  const out = {};
  for (const f of feature(topo, topo.objects.countries).features) {
    const code = f.id === undefined ? undefined : isoCountries.numericToAlpha2(String(f.id));
    const xy = code === undefined ? null : projection(geoCentroid(f));
    if (code !== undefined && xy !== null) out[code] = [Math.round(xy[0]), Math.round(xy[1])];
  }
  return JSON.stringify(out) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildConsole();
  console.log(`console: built ${dist}`);
}
