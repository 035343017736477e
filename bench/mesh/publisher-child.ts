// A publishing process of `npm run bench:mesh`'s throughput row: one WebSocket connection that
// publishes fixed-size messages on one channel as fast as its socket drains, for --seconds, then
// prints `sent N` and exits. It prints `open` once connected and starts on a line on stdin. Kept out of the measuring process so the publisher is not the limit.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { encodePublish } from '@fastpubsub/wire';

const { values } = parseArgs({
  options: { url: { type: 'string' }, token: { type: 'string' }, tenant: { type: 'string' }, channel: { type: 'string' }, seconds: { type: 'string' }, size: { type: 'string' } },
  strict: true,
});
const seconds = Number(values.seconds ?? '0');
if (values.url === undefined || values.token === undefined || values.tenant === undefined || values.channel === undefined || !(seconds > 0)) {
  process.stderr.write('usage: publisher-child.ts --url U --token T --tenant T --channel C --seconds S [--size B]\n');
  process.exit(2);
}
const frame = encodePublish({ tenant: values.tenant, channel: values.channel, payload: Buffer.alloc(Number(values.size ?? '256')) });
const ws = new WebSocket(values.url, ['llps.v1', `at.${values.token}`], { perMessageDeflate: false });
ws.on('error', (err) => {
  process.stderr.write(`publisher: ${err.message}\n`);
  process.exit(1);
});
await new Promise<void>((resolve) => ws.once('open', () => resolve()));
// Connected: wait for the parent's go (a line on stdin), so every publisher starts together.
process.stdout.write('open\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const end = performance.now() + seconds * 1000;
let sent = 0;
while (performance.now() < end) {
  for (let i = 0; i < 256 && ws.bufferedAmount < 1 << 20; i++, sent++) ws.send(frame);
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(`sent ${sent}\n`);
ws.close();
setTimeout(() => process.exit(0), 200);
