// Headless Chromium (Debian's /usr/bin/chromium via playwright-core) and a tiny static server.
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Serves `files` (path → [content type, body]) on loopback; resolves with the base URL. */
export async function serve(files: Record<string, [string, string]>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const f = files[(req.url ?? '/').split('?')[0]!];
    if (f === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[0], 'cache-control': 'no-store' }).end(f[1]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => {
    server.closeAllConnections(); // Chromium keeps connections alive
    server.close(() => r());
  }) };
}

/** Launches headless Chromium with a fresh profile (QUIC off unless `quic`); the returned close() removes it. */
export async function launchChromium(opts: { quic?: boolean } = {}): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'fps-chromium-'));
  // WebTransport needs QUIC: the WebTransport tests allow it.
  const args = opts.quic === true ? CHROMIUM_ARGS.filter((a) => a !== '--disable-quic') : CHROMIUM_ARGS;
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

