// Child process of the isolation benchmark: publishes at `rate` msg/s (in corked 10 ms
// batches) to one tenant until SIGTERM, and reports how many were refused with ERR:rate_limited.
import type { Socket } from 'node:net';
import WebSocket from 'ws';

const [wsUrl, token, tenant, rateText] = process.argv.slice(2) as [string, string, string, string];
const rate = Number(rateText);
const ws = new WebSocket(wsUrl, ['llps.v1', `at.${token}`], { perMessageDeflate: false });
let refused = 0;
let sent = 0;
ws.on('message', (d: Buffer, binary: boolean) => {
  if (!binary && d.toString() === 'ERR:rate_limited') refused++;
});
function frame(channel: string, payload: Buffer): Buffer {
  const t = Buffer.from(tenant);
  const c = Buffer.from(channel);
  const h = Buffer.alloc(4 + t.length + c.length);
  h.writeUInt16BE(t.length, 0);
  t.copy(h, 2);
  h.writeUInt16BE(c.length, 2 + t.length);
  c.copy(h, 4 + t.length);
  return Buffer.concat([h, payload]);
}
const payload = Buffer.alloc(64, 120);
ws.once('open', () => {
  process.stdout.write('ready\n');
  const t0 = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    // Each 10 ms batch corked into one write, like a real SDK's coalescing (bench/fanout does the same).
    const socket = (ws as unknown as { _socket?: Socket })._socket;
    socket?.cork();
    try {
      for (; sent < due; sent++) ws.send(frame('flood.x', payload), { binary: true });
    } finally {
      socket?.uncork();
    }
  }, 10);
  process.once('SIGTERM', () => {
    clearInterval(timer);
    setTimeout(() => {
      process.stdout.write(JSON.stringify({ sent, refused }) + '\n');
      ws.terminate();
      process.exit(0);
    }, 300);
  });
});
