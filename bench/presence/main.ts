// bench:presence — presence across a 3-relay mesh (relays as processes behind the link
// emulator, 20/10/15 ms links, real WebSocket clients joining over the PRESENCE: extension).
//   1. one channel, --members members spread evenly over the 3 PoPs (one connection each):
//      time until every PoP counts all of them, and the count at each PoP;
//   2. join-to-visible at a remote PoP: --probes single joins at Tokyo, each timed until
//      Frankfurt's REST count includes it (10 ms polling): p50 / p99 / max;
//   3. --channels channels × --per-channel members (up to 50 joins per connection, to distinct
//      channels, within the per-connection join burst): time until every PoP has every count right;
//   4. PRESENCE bytes each PoP sent on its mesh links during the run (/metrics).
// Usage: npm run bench:presence -- [--members N] [--probes N] [--channels N] [--per-channel N]
// Defaults are sized for a small shared machine (a few minutes at most); the member count a
// PoP can hold is bounded by client connections here, not by the gossip (docs/presence.md).
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startDevCluster, type DevCluster, type DevClusterOptions } from '@fastpubsub/cli';
import { TENANT, issueMeshToken, sleep, until } from '@fastpubsub/testkit/relay';

const cluster = (topology: unknown, opts: DevClusterOptions): Promise<DevCluster> => startDevCluster(topology, { logLevel: 'warn', ...opts });

const USAGE = `Usage: npm run bench:presence -- [--members N] [--probes N] [--channels N] [--per-channel N]

Presence across a 3-relay mesh: time until every PoP counts every member, join-to-visible at a
remote PoP, many channels, and the gossip bytes per PoP.
  --members N      members in one channel, spread over the 3 PoPs (default 900)
  --probes N       timed single joins at Tokyo (default 30)
  --channels N     channels for the many-channels step (default 100)
  --per-channel N  members per channel there (default 30)
  -h, --help       this help (runs nothing)
`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '900' },
    probes: { type: 'string', default: '30' },
    channels: { type: 'string', default: '100' },
    'per-channel': { type: 'string', default: '30' },
  },
});
const MEMBERS = Math.max(3, Number(values.members));
const PROBES = Math.max(1, Number(values.probes));
const CHANNELS = Math.max(1, Number(values.channels));
const PER_CHANNEL = Math.max(1, Number(values['per-channel']));
/** A connection holds one membership per channel: its joins go to distinct channels. */
const JOINS_PER_CONN = Math.min(50, CHANNELS);
const POPS = ['tokyo', 'frankfurt', 'virginia'] as const;
const topology = {
  nodes: POPS.map((id) => ({ id })),
  links: [
    { a: 'tokyo', b: 'frankfurt', delayMs: 20 },
    { a: 'frankfurt', b: 'virginia', delayMs: 10 },
    { a: 'tokyo', b: 'virginia', delayMs: 15 },
  ],
};

const c = await cluster(topology, { mesh: { probeIntervalMs: 200 } });
const sockets: WebSocket[] = [];
const tokens = new Map<string, string>();
try {
  for (const id of POPS) tokens.set(id, await issueMeshToken(c, id));

  const openWs = async (pop: string): Promise<WebSocket> => {
    const ws = new WebSocket(c.nodes.get(pop)!.wsUrl, ['llps.v1', `at.${tokens.get(pop)!}`], { perMessageDeflate: false, handshakeTimeout: 10_000 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => undefined);
    sockets.push(ws);
    return ws;
  };
  const count = async (pop: string, channel: string): Promise<number> => {
    const res = await fetch(`${c.nodes.get(pop)!.httpUrl}/v1/presence/${TENANT}/${channel}?limit=1`, {
      headers: { authorization: `Bearer ${tokens.get(pop)!}` },
      signal: AbortSignal.timeout(5000),
    });
    return ((await res.json()) as { count: number }).count;
  };
  const bytesSent = async (pop: string): Promise<number> => {
    const text = await (await fetch(`${c.nodes.get(pop)!.httpUrl}/metrics`)).text();
    const m = /^fastpubsub_presence_mesh_bytes_total\{direction="sent"\} (\d+)/m.exec(text);
    return m === null ? 0 : Number(m[1]);
  };

  // Mesh up: a marker member at Virginia visible everywhere.
  const marker = await openWs('virginia');
  marker.send(`PRESENCE:JOIN:${TENANT}:m.marker {"clientId":"marker"}`);
  for (const pop of POPS) await until(`mesh up (${pop})`, 60_000, async () => ((await count(pop, 'm.marker')) === 1 ? true : undefined), 200);
  const bytes0 = new Map<string, number>();
  for (const pop of POPS) bytes0.set(pop, await bytesSent(pop));

  // 1. One channel.
  const t1 = performance.now();
  for (let i = 0; i < MEMBERS; i++) {
    const ws = await openWs(POPS[i % 3]!);
    ws.send(`PRESENCE:JOIN:${TENANT}:m.big {"clientId":"u${i}"}`);
  }
  const opened = performance.now() - t1;
  for (const pop of POPS) await until(`${MEMBERS} members at ${pop}`, 60_000, async () => ((await count(pop, 'm.big')) === MEMBERS ? true : undefined), 50);
  const converged1 = performance.now() - t1;
  const counts1 = await Promise.all(POPS.map((p) => count(p, 'm.big')));

  // 2. Join-to-visible at a remote PoP.
  const probe = await openWs('tokyo');
  const lat: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const before = await count('frankfurt', 'm.probe');
    const t = performance.now();
    probe.send(`PRESENCE:JOIN:${TENANT}:m.probe {"clientId":"p${i}"}`);
    await until('probe visible at frankfurt', 5000, async () => ((await count('frankfurt', 'm.probe')) > before ? true : undefined), 10);
    lat.push(performance.now() - t);
    probe.send(`PRESENCE:LEAVE:${TENANT}:m.probe`);
    await until('probe gone at frankfurt', 5000, async () => ((await count('frankfurt', 'm.probe')) === before ? true : undefined), 10);
  }
  lat.sort((a, b) => a - b);
  const pct = (q: number): number => lat[Math.min(lat.length - 1, Math.ceil(q * lat.length) - 1)]!;

  // 3. Many channels.
  const t3 = performance.now();
  const total = CHANNELS * PER_CHANNEL;
  const conns = Math.ceil(total / JOINS_PER_CONN);
  let joined = 0;
  for (let k = 0; k < conns; k++) {
    const ws = await openWs(POPS[k % 3]!);
    for (let j = 0; j < JOINS_PER_CONN && joined < total; j++, joined++) {
      ws.send(`PRESENCE:JOIN:${TENANT}:m.ch${joined % CHANNELS} {"clientId":"k${joined}"}`);
    }
  }
  for (const pop of POPS) {
    for (let ch = 0; ch < CHANNELS; ch++) {
      await until(`channel ${ch} at ${pop}`, 60_000, async () => ((await count(pop, `m.ch${ch}`)) === PER_CHANNEL ? true : undefined), 20);
    }
  }
  const converged3 = performance.now() - t3;

  await sleep(500);
  const sent = await Promise.all(POPS.map(async (p) => (await bytesSent(p)) - (bytes0.get(p) ?? 0)));

  const rows: Array<[string, string]> = [
    [`1. one channel, ${MEMBERS} members over 3 PoPs: all joined → every PoP counts ${MEMBERS}`, `${converged1.toFixed(0)} ms (connections opened in ${opened.toFixed(0)} ms)`],
    ['   count at tokyo / frankfurt / virginia', counts1.join(' / ')],
    [`2. join at tokyo → visible at frankfurt (${PROBES} probes, 10 ms polling)`, `p50 ${pct(0.5).toFixed(0)} ms, p99 ${pct(0.99).toFixed(0)} ms, max ${lat[lat.length - 1]!.toFixed(0)} ms`],
    [`3. ${CHANNELS} channels × ${PER_CHANNEL} members (${conns} connections): every count right at every PoP`, `${converged3.toFixed(0)} ms`],
    ['4. PRESENCE bytes sent on mesh links, tokyo / frankfurt / virginia', sent.map((b) => `${(b / 1024).toFixed(0)} KiB`).join(' / ')],
    ['   per membership joined (all PoPs, all links)', `${(sent.reduce((a, b) => a + b, 0) / (MEMBERS + total + 2 * PROBES)).toFixed(0)} bytes`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\nbench:presence (3 relays as processes, loopback + link emulator)\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
} finally {
  for (const s of sockets) s.terminate();
  await c.stop();
}
