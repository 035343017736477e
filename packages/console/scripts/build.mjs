#!/usr/bin/env node
// Builds the console's static site into dist/: the pages and stylesheet, one minified ESM
// bundle per page (esbuild, platform browser, the browser SDK inlined), and basemap.svg, the
// world's land drawn once here from world-atlas (Natural Earth 1:110m) in the map's
// equirectangular frame, so the page fetches nothing from outside at run time.
import { build } from 'esbuild';
import { geoEquirectangular, geoPath } from 'd3-geo';
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
  return result.metafile;
}

async function basemap() {
  const topo = JSON.parse(await readFile(fileURLToPath(import.meta.resolve('world-atlas/land-110m.json')), 'utf8'));
  const land = feature(topo, topo.objects.land);
  const projection = geoEquirectangular().scale(WIDTH / (2 * Math.PI)).translate([WIDTH / 2, HEIGHT / 2]);
  const d = geoPath(projection).digits(1)(land);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}"><path fill="#2b4257" stroke="#3d5a75" stroke-width="0.5" d="${d}"/></svg>\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildConsole();
  console.log(`console: built ${dist}`);
}
