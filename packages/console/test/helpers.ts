// Shared by the console's browser tests: a built console, a dev cluster (real relays as child
// processes behind the link emulator, the embedded control plane serving the console) and
// headless Debian Chromium driven by playwright-core. Every wait is bounded.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startDevCluster, type DevCluster } from '@fastpubsub/cli';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const DIST = fileURLToPath(new URL('../dist', import.meta.url));
export const SHOTS = fileURLToPath(new URL('../../../docs/console', import.meta.url));

/** Runs the console's build (the same one `npm run build` runs) into dist/. */
export function buildConsole(): void {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`console build failed: ${r.stderr}`);
}

export async function devCluster(topology: unknown): Promise<DevCluster> {
  return startDevCluster(topology, { control: true, consoleDir: DIST, logLevel: 'warn' });
}

export async function launchChromium(viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page; errors: string[]; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'fps-console-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name), fullPage: true });
}

/**
 * Adds `address`/32 to the loopback interface for a test (a client "from another country" for
 * the GeoIP panels) and returns its removal. Needs root; fails with a message saying so.
 */
export function addLoopbackAlias(address: string): () => void {
  const ip = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync('ip', args, { encoding: 'utf8', timeout: 5000 });
  const r = ip('addr', 'add', `${address}/32`, 'dev', 'lo');
  if (r.status !== 0 && !/File exists/.test(String(r.stderr))) throw new Error(`ip addr add ${address}/32 dev lo failed (needs root and iproute2): ${String(r.stderr)}`);
  const added = r.status === 0;
  return () => {
    if (added) ip('addr', 'del', `${address}/32`, 'dev', 'lo');
  };
}
