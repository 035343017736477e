// Child process of the isolation benchmark: a control plane (embedded store) and one relay
// using it, so the relay's event loop is not shared with the load generators. Prints one JSON
// line with the URLs, then serves until SIGTERM.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay } from '@fastpubsub/testkit/relay';
import { startControl } from '@fastpubsub/control';

const OPERATOR = process.argv[2] ?? 'bench-operator-token-0123456789abcdef';
const dir = await mkdtemp(join(tmpdir(), 'fps-bench-iso-'));
const control = await startControl({
  listen: { host: '127.0.0.1', port: 0 },
  operatorToken: OPERATOR,
  store: { kind: 'embedded', dataDir: join(dir, 'control') },
  logLevel: 'silent',
});
const relay = await startRelay({
  listen: { host: '127.0.0.1', port: 0 },
  masterToken: OPERATOR,
  dataDir: join(dir, 'relay'),
  logLevel: 'silent',
  control: { urls: [control.url], token: OPERATOR },
});
process.stdout.write(JSON.stringify({ control: control.url, http: relay.httpUrl, ws: relay.wsUrl }) + '\n');
process.once('SIGTERM', () => {
  void (async () => {
    await relay.close({ graceMs: 0 });
    await control.close();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  })();
});
