// transport 'auto' in headless Chromium, inside a network namespace of our own (root, `ip`,
// `nft`): with UDP open it picks WebTransport; with every UDP packet on the namespace's
// loopback dropped by nft it falls back to WebSocket quickly and the page still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CHROMIUM } from './browser-helpers.js';

const NS = `fps-wt-${process.pid}`;
const RUN = fileURLToPath(new URL('./fixtures/auto-page-run.ts', import.meta.url));
const BLOCK_UDP = 'table inet fpswt {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    iif "lo" meta l4proto udp counter drop\n  }\n}\n';

function canNetns(): boolean {
  if (process.getuid?.() !== 0 || !existsSync(CHROMIUM)) return false;
  return spawnSync('ip', ['netns', 'list']).status === 0 && spawnSync('nft', ['--version']).status === 0;
}

const sh = (args: string[], input?: string): string => execFileSync(args[0] as string, args.slice(1), { encoding: 'utf8', input, timeout: 10_000 });

function runPage(): { transport?: string; openMs?: number; got: string[]; failed?: string } {
  const out = spawnSync('ip', ['netns', 'exec', NS, process.execPath, '--conditions=development', '--import', 'tsx', RUN], { encoding: 'utf8', timeout: 90_000 });
  const line = out.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `page run printed no result (status ${String(out.status)}): ${out.stderr.slice(-2000)}`);
  return JSON.parse(line) as { transport?: string; openMs?: number; got: string[]; failed?: string };
}

test("browser: transport 'auto' uses WebTransport, and falls back to WebSocket when UDP is blocked", { timeout: 240_000 }, () => {
  assert.ok(canNetns(), 'this test needs root, ip (iproute2), nft (nftables) and /usr/bin/chromium (Debian chromium)');
  sh(['ip', 'netns', 'add', NS]);
  try {
    sh(['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
    const open = runPage();
    assert.equal(open.failed, undefined);
    assert.equal(open.transport, 'webtransport');
    assert.deepEqual(open.got, ['m0', 'm1', 'm2']);

    sh(['ip', 'netns', 'exec', NS, 'nft', '-f', '-'], BLOCK_UDP);
    const blocked = runPage();
    assert.equal(blocked.failed, undefined);
    assert.equal(blocked.transport, 'websocket');
    assert.deepEqual(blocked.got, ['m0', 'm1', 'm2']);
    const dropped = Number(/counter packets (\d+)/.exec(sh(['ip', 'netns', 'exec', NS, 'nft', 'list', 'table', 'inet', 'fpswt']))?.[1] ?? 0);
    assert.ok(dropped > 0, 'the nft rule dropped the UDP packets');
    // Falls back after a few loopback round trips, not after a QUIC handshake timeout (seconds).
    assert.ok((blocked.openMs ?? Infinity) < 2000, `auto opened in ${String(blocked.openMs)} ms`);
    console.log(`auto: webtransport opened in ${String(open.openMs)} ms; UDP blocked → websocket in ${String(blocked.openMs)} ms (${dropped} UDP packets dropped)`);
  } finally {
    spawnSync('ip', ['netns', 'delete', NS]);
  }
});
