// `fastpubsub ping` as a real child process: latencies of real relays, one behind a delay proxy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { createServer, connect as tcpConnect, type Server } from 'node:net';
import { cli, exitWithin, killChildren } from './harness.js';

const MASTER = 'cli-ping-master-token-0123456789abc';

/** A TCP proxy adding `delayMs` to every chunk in both directions. */
async function delayProxy(targetPort: number, delayMs: number): Promise<{ url: string; server: Server }> {
  const server = createServer((c) => {
    const u = tcpConnect(targetPort, '127.0.0.1');
    for (const [a, b] of [[c, u], [u, c]] as const) {
      a.on('data', (d) => setTimeout(() => b.writable && b.write(d), delayMs));
      a.on('error', () => {});
      a.on('close', () => setTimeout(() => b.destroy(), delayMs));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server };
}

const relays: Relay[] = [];
const dirs: string[] = [];
let slow: { url: string; server: Server };
before(async () => {
  for (let i = 0; i < 2; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'fps-cli-'));
    dirs.push(dataDir);
    relays.push(await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER, dataDir, logLevel: 'silent' }));
  }
  slow = await delayProxy(relays[0]!.port, 150);
});
after(async () => {
  killChildren();
  slow.server.close();
  for (const r of relays) await r.close({ graceMs: 0 });
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('ping lists each edge latency and marks the fastest', async () => {
  const fast = relays[1]!.httpUrl;
  const r = cli(['ping', '--count', '2', slow.url, fast]);
  assert.equal(await exitWithin(r), 0, r.stderr());
  const lines = r.stdout().trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, new RegExp(`^${slow.url}\\s+\\d+\\.\\d+ ms$`));
  assert.match(lines[1]!, new RegExp(`^${fast}\\s+\\d+\\.\\d+ ms  ← fastest$`));
});

test('ping --json, with --discovery, and a dead edge', async () => {
  const dead = 'http://127.0.0.1:9'; // discard port: nothing listens
  const r = cli(['ping', '--json', '--count', '1', '--timeout', '1000', dead, slow.url, '--discovery', `${relays[1]!.httpUrl}/v1/edges`]);
  assert.equal(await exitWithin(r), 0, r.stderr());
  const out = JSON.parse(r.stdout()) as { edges: Array<{ url: string; ok: boolean; rtt_ms?: number }>; fastest: string };
  assert.deepEqual(out.edges.map((e) => [e.url, e.ok]), [[dead, false], [slow.url, true], [relays[1]!.httpUrl, true]]);
  assert.ok(out.edges[1]!.rtt_ms! >= 150);
  assert.equal(out.fastest, relays[1]!.httpUrl);
});

test('ping: no edge answers → exit 1; no arguments → exit 2; --help → 0', async () => {
  const r = cli(['ping', '--count', '1', '--timeout', '500', 'http://127.0.0.1:9']);
  assert.equal(await exitWithin(r), 1);
  assert.match(r.stderr(), /no edge answered pong/);
  const u = cli(['ping']);
  assert.equal(await exitWithin(u), 2);
  assert.match(u.stderr(), /at least one edge URL/);
  const h = cli(['ping', '--help']);
  assert.equal(await exitWithin(h), 0);
  assert.match(h.stdout(), /Usage: fastpubsub ping/);
});
