// The relay of `npm run bench:connections`, alone in its own process so its RSS and CPU can be
// read from /proc, with the connection limits opened up to the benchmark's size: maxConnections
// is the idle connections plus the measured client's two plus one, so the connection after that
// is refused (the bench checks the refusal and that /ping and /metrics still answer).
// Prints `fastpubsub relay listening on http://H:P (ws://H:P/ws)`, after `fastpubsub relay quic edge
// on H:P, CA FILE` with --quic (the QUIC edge on, for the QUIC row); exits on SIGTERM or when its
// parent closes stdin.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRelay } from '@fastpubsub/relay';

const { values } = parseArgs({
  options: { 'master-token': { type: 'string' }, 'data-dir': { type: 'string' }, 'max-connections': { type: 'string' }, quic: { type: 'boolean' } },
  strict: true,
});
const masterToken = values['master-token'];
const dataDir = values['data-dir'];
const maxConnections = Number(values['max-connections'] ?? '');
if (masterToken === undefined || dataDir === undefined || !(maxConnections > 0)) {
  process.stderr.write('usage: relay-child.ts --master-token T --data-dir D --max-connections N\n');
  process.exit(2);
}

const relay = await startRelay({
  listen: { host: '127.0.0.1', port: 0 },
  masterToken,
  dataDir,
  limits: {
    maxConnections,
    maxConnectionsPerTenant: maxConnections,
    maxConnectionsPerIp: maxConnections,
    maxSubscriptionsPerTenant: maxConnections + 10,
    defaultIngressKbPerSec: 0,
    defaultEgressKbPerSec: 0,
  },
  // With --quic the QUIC edge is on (its idle connections are the row), with a generated certificate.
  quic: values.quic === true ? { listen: { host: '127.0.0.1', port: 0 } } : { enabled: false },
  logLevel: 'warn',
});
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
