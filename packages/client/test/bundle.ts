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
