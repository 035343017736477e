// The relay under attack, alone in its own process so its CPU and RSS are read from /proc and
// an attack cannot borrow the attacker's event loop. Config: JSON in argv[2]. Prints one JSON
// line with its addresses; exits when its parent closes stdin, so it never outlives the suite.
import { startRelay } from '@fastpubsub/relay';

const relay = await startRelay(JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof startRelay>[0]);
process.stdout.write(
  JSON.stringify({ httpUrl: relay.httpUrl, wsUrl: relay.wsUrl, port: relay.port, quicPort: relay.quicPort ?? null, quicCaPem: relay.quicCaPem ?? null }) + '\n',
);
const stop = (): void => {
  void relay.close({ graceMs: 0 }).finally(() => process.exit(0));
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
