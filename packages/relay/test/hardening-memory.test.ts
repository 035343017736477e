// Memory after the fragment attack, measured where it cannot be flattered by lazy garbage
// collection: waves of connections each sending a never-finished fragmented message (1 MiB in
// 64-byte fragments, cut at the message limit, or 60 KB cut at the deadline) against an
// in-process relay, the heap measured after forced collections. What a closed connection held
// must be returned: the heap does not grow from wave to wave (loose bound).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { randomBytes } from 'node:crypto';
import { TestEnv, sleep } from '@fastpubsub/testkit/relay';
import { clientFrame, rawUpgrade } from './conformance/rawws.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const env = new TestEnv();
after(() => env.cleanup());

function fragments(count: number): Buffer {
  const parts: Buffer[] = [];
  for (let k = 0; k < count; k++) {
    const f = clientFrame(k === 0 ? 0x2 : 0x0, randomBytes(64));
    f[0] = (f[0] ?? 0) & 0x7f; // FIN never set
    parts.push(f);
  }
  return Buffer.concat(parts);
}

function retainedMb(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / (1024 * 1024);
}

test('the fragment attack leaves no memory behind: retained heap is flat across waves', async () => {
  const relay = await env.relay({ quic: { enabled: false }, limits: { wsMessageTimeoutMs: 800 } });
  const token = await env.token(relay);
  const big = fragments(16_384);
  const unfinished = fragments(940);
  const retained: number[] = [];
  for (let wave = 0; wave < 4; wave++) {
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await rawUpgrade('127.0.0.1', relay.port, { path: '/ws', protocol: `llps.v1,at.${token}` });
      assert.equal(r.status, 101);
      r.socket.on('error', () => undefined);
      r.socket.resume();
      r.socket.write(i % 2 === 0 ? big : unfinished);
      sockets.push(env.trackSocket(r.socket));
    }
    const deadline = Date.now() + 10_000;
    while (sockets.some((s) => !s.destroyed) && Date.now() < deadline) await sleep(50);
    assert.equal(sockets.filter((s) => !s.destroyed).length, 0, 'the relay cut every attacking connection');
    await sleep(200);
    retained.push(retainedMb());
  }
  const growth = (retained[3] as number) - (retained[1] as number);
  assert.ok(growth < 8, `retained heap grew ${growth.toFixed(1)} MB over two waves (${retained.map((x) => x.toFixed(1)).join(' / ')} MB)`);
});
