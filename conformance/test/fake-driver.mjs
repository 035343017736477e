#!/usr/bin/env node
// A deliberately broken conformance driver, to prove the runner catches broken SDKs.
// FAKE_MODE=silent: accepts every command, never delivers a message.
// FAKE_MODE=corrupt: delivers every publish to every subscription, with the last byte flipped.
// FAKE_MODE=lossy: like corrupt but byte-exact; its throughput op reports one message lost.
// FAKE_MODE=crash: exits (status 3) on its first subscribe.
import { createInterface } from 'node:readline';

const mode = process.env.FAKE_MODE ?? 'silent';
const subs = new Map(); // sub → { client, pattern }
const write = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  if (mode === 'crash' && cmd.op === 'subscribe') process.exit(3);
  const reply = { id: cmd.id, ok: true };
  if (cmd.op === 'connect') reply.edge = cmd.endpoint ?? cmd.edges?.[0];
  if (cmd.op === 'subscribe') subs.set(cmd.sub, { client: cmd.client, pattern: cmd.pattern });
  if (cmd.op === 'publish' && mode !== 'silent') {
    const bytes = Buffer.from(cmd.payload, 'base64');
    if (mode === 'corrupt' && bytes.length > 0) bytes[bytes.length - 1] ^= 1;
    for (const [sub, s] of subs) {
      write({ event: 'message', client: s.client, sub, tenant: cmd.tenant, channel: cmd.channel, payload: bytes.toString('base64'), patterns: [s.pattern] });
    }
  }
  if (cmd.op === 'stats') Object.assign(reply, { published: 0, queued: 0, queueDropped: 0, reconnects: 0, received: 0, dropped: 0 });
  if (cmd.op === 'ping') reply.rttMs = 1;
  if (cmd.op === 'throughput') Object.assign(reply, { received: cmd.count - 1, seconds: 1, messagesPerSecond: cmd.count - 1 });
  write(reply);
  if (cmd.op === 'exit') process.exit(0);
});
write({ event: 'ready', sdk: 'fake', transports: ['websocket'] });
