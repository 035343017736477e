// A counting subscriber process of `npm run bench:mesh -- --workers`: --connections WebSocket
// connections with one subscription each, every delivery counted. Prints `ready` once all are
// subscribed; for each line L on stdin it prints `count L N` (N deliveries so far, all
// connections), so the parent can read a window.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({ options: { url: { type: 'string' }, token: { type: 'string' }, tenant: { type: 'string' }, pattern: { type: 'string' }, connections: { type: 'string' } }, strict: true });
if (values.url === undefined || values.token === undefined || values.tenant === undefined || values.pattern === undefined) {
  process.stderr.write('usage: subscriber-child.ts --url U --token T --tenant T --pattern P [--connections N]\n');
  process.exit(2);
}
const sub = `SUB:${values.tenant}:${values.pattern}`;
let received = 0;
let subscribed = 0;
const connections = Math.max(1, Number(values.connections ?? '1'));
for (let i = 0; i < connections; i++) {
  const ws = new WebSocket(values.url, ['llps.v1', `at.${values.token}`], { perMessageDeflate: false });
  ws.on('error', (err) => {
    process.stderr.write(`subscriber: ${err.message}\n`);
    process.exit(1);
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) received++;
    else if (data.toString('utf8') === `OK:${sub}` && ++subscribed === connections) process.stdout.write('ready\n');
  });
  ws.once('open', () => ws.send(sub));
}
createInterface({ input: process.stdin }).on('line', (l) => process.stdout.write(`count ${l} ${received}\n`));
process.stdin.on('end', () => process.exit(0));
