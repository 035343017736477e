// Builds the browser bundle of the SDK with esbuild: ESM, platform 'browser' (so any Node
// built-in fails the build), minified.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url));

export async function bundleBrowser(options: { minify?: boolean } = {}): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    conditions: ['development'],
    write: false,
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error('esbuild produced no output');
  return out.text;
}

/**
 * The browser build as served: code splitting on, so what loads lazily (the WebTransport
 * transport) is its own chunk. `entry` is what every page loads; `chunks` by file name.
 */
export async function bundleBrowserSplit(): Promise<{ entry: string; chunks: Record<string, string> }> {
  const result = await build({
    entryPoints: { fastpubsub: ENTRY },
    bundle: true,
    splitting: true,
    outdir: '/fastpubsub-bundle',
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    conditions: ['development'],
    write: false,
    logLevel: 'silent',
  });
  let entry: string | undefined;
  const chunks: Record<string, string> = {};
  for (const f of result.outputFiles) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    if (name === 'fastpubsub.js') entry = f.text;
    else chunks[name] = f.text;
  }
  if (entry === undefined) throw new Error('esbuild produced no entry');
  return { entry, chunks };
}
