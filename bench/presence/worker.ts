// One simulated-clients process of bench:presence: the gateway connections of one PoP. The
// bench forks one per PoP so the members' WebSocket traffic runs beside (not inside) the bench
// process, which also carries the link emulator. IPC from the parent:
//   {cmd:'open', url, token, tenant, connections} → {cmd:'opened'}
//   {cmd:'join', kind:'one-channel'|'many-channels', pop, total, channels} → {cmd:'idle', refused}
//     joins every membership i < total with i % 3 === pop, on gateway floor(i / 3) % connections
//   {cmd:'close'} → exits
import { Gateway } from './gateway.js';

interface Open { cmd: 'open'; url: string; token: string; tenant: string; connections: number }
interface Join { cmd: 'join'; kind: 'one-channel' | 'many-channels'; pop: number; total: number; channels: number }
type Msg = Open | Join | { cmd: 'close' };

const gateways: Gateway[] = [];
const send = (m: unknown): void => void process.send?.(m);

process.on('message', (m: Msg) => {
  void handle(m).catch((err: unknown) => {
    send({ cmd: 'error', message: err instanceof Error ? err.message : String(err) });
  });
});
process.on('disconnect', () => shutdown());

async function handle(m: Msg): Promise<void> {
  switch (m.cmd) {
    case 'open':
      for (let i = 0; i < m.connections; i++) gateways.push(await Gateway.open(m.url, m.token, m.tenant));
      return send({ cmd: 'opened' });
    case 'join': {
      const n = gateways.length;
      for (let i = m.pop; i < m.total; i += 3) {
        const g = gateways[Math.floor(i / 3) % n]!;
        if (m.kind === 'one-channel') g.join('m.big', `u${i}`);
        else g.join(`m.ch${i % m.channels}`, `k${i}`);
      }
      await Promise.all(gateways.map((g) => g.idle(480_000)));
      return send({ cmd: 'idle', refused: gateways.reduce((a, g) => a + g.refused, 0) });
    }
    case 'close':
      return shutdown();
  }
}

function shutdown(): void {
  for (const g of gateways) g.close();
  process.exit(0);
}
