// The relay of `npm run bench:connections`, alone in its own process so its RSS and CPU can be
// read from /proc, with the connection limits opened up to the benchmark's size: maxConnections
// is the idle connections plus the measured client's two plus one, so the connection after that
// is refused (the bench checks the refusal and that /ping and /metrics still answer).
// Prints `fastpubsub relay listening on http://H:P (ws://H:P/ws)`; exits on SIGTERM or when its
// parent closes stdin.
import { parseArgs } from 'node:util';
import { startRelay } from '@fastpubsub/relay';

const { values } = parseArgs({
  options: { 'master-token': { type: 'string' }, 'data-dir': { type: 'string' }, 'max-connections': { type: 'string' } },
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
  quic: { enabled: false },
  logLevel: 'warn',
});
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
