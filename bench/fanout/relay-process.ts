// The relay under test, alone in its own process so its CPU and RSS can be read from /proc.
// Prints the CLI's ready line, `fastpubsub relay listening on http://H:P (ws://H:P/ws)`, preceded
// by `fastpubsub relay quic edge on H:P, CA FILE` when the relay has a QUIC edge (bench:loss).
// Exits on SIGTERM/SIGINT or when its parent closes stdin (so it never outlives the benchmark).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRelay } from '@fastpubsub/relay';

const { values } = parseArgs({
  options: {
    'master-token': { type: 'string' },
    'data-dir': { type: 'string' },
    'outbound-queue-bytes': { type: 'string' },
  },
  strict: true,
});
const masterToken = values['master-token'];
const dataDir = values['data-dir'];
if (masterToken === undefined || dataDir === undefined) {
  process.stderr.write('usage: relay-process.ts --master-token T --data-dir D [--outbound-queue-bytes N]\n');
  process.exit(2);
}
const queue = values['outbound-queue-bytes'];

const relay = await startRelay({
  listen: { host: '127.0.0.1', port: 0 },
  masterToken,
  dataDir,
  // Tokens without rates get no per-connection rate limit here: the benchmark measures the relay,
  // and one publisher at max throughput exceeds the shipped 16 MiB/s default.
  limits: { defaultIngressKbPerSec: 0, defaultEgressKbPerSec: 0, ...(queue !== undefined ? { outboundQueueBytes: Number(queue) } : {}) },
  logLevel: 'warn', // per-connection info logs would cost the relay CPU inside the window
});
// The QUIC edge (relays that have one): its UDP port and the CA of its self-signed certificate.
const quic = relay as { quicPort?: number; quicCaPem?: string };
if (quic.quicPort !== undefined && quic.quicCaPem !== undefined) {
  const caFile = join(dataDir, 'bench-quic-ca.pem');
  writeFileSync(caFile, quic.quicCaPem);
  process.stdout.write(`fastpubsub relay quic edge on 127.0.0.1:${quic.quicPort}, CA ${caFile}\n`);
}
process.stdout.write(`fastpubsub relay listening on ${relay.httpUrl} (${relay.wsUrl})\n`);

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  relay.close({ graceMs: 0 }).then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();
