// bench:presence — presence at scale across a 3-relay mesh (relays as processes behind the link
// emulator, 20/10/15 ms links). Members are simulated: one process per PoP (worker.ts) with
// --connections WebSocket connections, each a gateway holding many members (`PRESENCE:JOIN … {"add":true}`), paced under the
// relay's per-connection JOIN limit (docs/presence.md). Steps:
//   1. one channel, --members members spread evenly over the 3 PoPs: time until every PoP
//      counts all of them; meanwhile join→visible probes (Tokyo → Frankfurt) in another channel;
//   2. join→visible at a remote PoP into the full channel: --probes single joins at Tokyo, each
//      timed until Frankfurt's REST count includes it (10 ms polling);
//   3. paging the full channel at Frankfurt (limit 1000, cursor) — every member exactly once;
//   4. --channels channels × --per-channel members: time until every count is right everywhere;
//   5. PRESENCE bytes each PoP sent on its mesh links, per step (/metrics).
// Usage: npm run bench:presence -- [--members N] [--connections N] [--probes N] [--channels N] [--per-channel N]
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startDevCluster } from '@fastpubsub/cli';
import { TENANT, issueMeshToken, sleep, until } from '@fastpubsub/testkit/relay';

const USAGE = `Usage: npm run bench:presence -- [--members N] [--connections N] [--probes N] [--channels N] [--per-channel N]

Presence at scale across a 3-relay mesh (simulated members: a few WebSocket connections per PoP,
each holding many members): every PoP's count, join→visible at a remote PoP, paging, many
channels, and the mesh presence bytes per PoP.
  --members N      members in one channel, spread over the 3 PoPs (default 100000)
  --connections N  WebSocket connections per PoP carrying the members (default 100)
  --probes N       timed single joins at Tokyo into the full channel (default 50)
  --channels N     channels for the many-channels step (default 1000)
  --per-channel N  members per channel there (default 100)
  -h, --help       this help (runs nothing)
`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '100' },
    probes: { type: 'string', default: '50' },
    channels: { type: 'string', default: '1000' },
    'per-channel': { type: 'string', default: '100' },
  },
});
const MEMBERS = Math.max(3, Number(values.members));
const CONNS = Math.max(1, Number(values.connections));
const PROBES = Math.max(1, Number(values.probes));
const CHANNELS = Math.max(1, Number(values.channels));
const PER_CHANNEL = Math.max(1, Number(values['per-channel']));
const POPS = ['tokyo', 'frankfurt', 'virginia'] as const;
// A connection holds at most limits.maxSubscriptionsPerConnection (1000) memberships.
if ((MEMBERS + CHANNELS * PER_CHANNEL) / (3 * CONNS) > 990) throw new Error('too few --connections for the members: at most ~990 memberships per connection');
const topology = {
  nodes: POPS.map((id) => ({ id })),
  links: [
    { a: 'tokyo', b: 'frankfurt', delayMs: 20 },
    { a: 'frankfurt', b: 'virginia', delayMs: 10 },
    { a: 'tokyo', b: 'virginia', delayMs: 15 },
  ],
};

const startedAt = performance.now();
const c = await startDevCluster(topology, { logLevel: 'warn', mesh: { probeIntervalMs: 200 }, onLog: (id, line) => process.stderr.write(`[${id}] ${line}\n`) });
const workers: ChildProcess[] = [];
/** Sends a command to a worker and resolves with its first answer of `cmd` (rejects on 'error'). */
const ask = (w: ChildProcess, msg: unknown, cmd: string): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>): void => {
      if (m.cmd !== cmd && m.cmd !== 'error') return;
      w.off('message', on);
      if (m.cmd === 'error') reject(new Error(String(m.message)));
      else resolve(m);
    };
    w.on('message', on);
    w.send(msg as object);
  });
const sockets: WebSocket[] = [];
try {
  const tokens = new Map<string, string>();
  for (const id of POPS) tokens.set(id, await issueMeshToken(c, id));
  const http = (pop: string): string => c.nodes.get(pop)!.httpUrl;
  const auth = (pop: string): Record<string, string> => ({ authorization: `Bearer ${tokens.get(pop)!}` });
  const page = async (pop: string, channel: string, query = 'limit=1'): Promise<{ count: number; members: Array<{ clientId: string }>; next: string | null }> => {
    const res = await fetch(`${http(pop)}/v1/presence/${TENANT}/${channel}?${query}`, { headers: auth(pop), signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as { count: number; members: Array<{ clientId: string }>; next: string | null };
  };
  const count = async (pop: string, channel: string): Promise<number> => (await page(pop, channel)).count;
  const bytesSent = async (pop: string): Promise<number> => {
    const m = /^fastpubsub_presence_mesh_bytes_total\{direction="sent"\} (\d+)/m.exec(await (await fetch(`${http(pop)}/metrics`)).text());
    return m === null ? 0 : Number(m[1]);
  };
  const bytesNow = async (): Promise<number[]> => Promise.all(POPS.map(bytesSent));
  const fullRequests = async (): Promise<number[]> =>
    Promise.all(POPS.map(async (pop) => Number(/^fastpubsub_presence_full_requests_total (\d+)/m.exec(await (await fetch(`${http(pop)}/metrics`)).text())?.[1] ?? 0)));
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

  // Mesh up: a marker member at Virginia visible everywhere.
  const marker = await openWs('virginia');
  marker.send(`PRESENCE:JOIN:${TENANT}:m.marker {"clientId":"marker"}`);
  for (const pop of POPS) await until(`mesh up (${pop})`, 60_000, async () => ((await count(pop, 'm.marker')) === 1 ? true : undefined), 200);
  const tOpen = performance.now();
  const workerFile = fileURLToPath(new URL('./worker.ts', import.meta.url));
  for (const pop of POPS) {
    const w = fork(workerFile, [], { execArgv: ['--conditions=development', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    workers.push(w);
    await ask(w, { cmd: 'open', url: c.nodes.get(pop)!.wsUrl, token: tokens.get(pop)!, tenant: TENANT, connections: CONNS }, 'opened');
  }
  const openedMs = performance.now() - tOpen;
  /** Every worker joins its PoP's share of `total` memberships; resolves with the refusals (resent) in all. */
  const joinAll = async (kind: 'one-channel' | 'many-channels', total: number): Promise<number> => {
    const answers = await Promise.all(workers.map((w, pop) => ask(w, { cmd: 'join', kind, pop, total, channels: CHANNELS }, 'idle')));
    return answers.reduce((a, m) => a + Number(m.refused), 0);
  };

  /** One probe: a join at Tokyo, timed until Frankfurt counts it; then a leave, until it is gone. */
  const probeWs = await openWs('tokyo');
  const probeOnce = async (channel: string, id: string, base: number): Promise<number> => {
    const t = performance.now();
    probeWs.send(`PRESENCE:JOIN:${TENANT}:${channel} {"clientId":"${id}"}`);
    await until('probe visible at frankfurt', 10_000, async () => ((await count('frankfurt', channel)) > base ? true : undefined), 10);
    const ms = performance.now() - t;
    probeWs.send(`PRESENCE:LEAVE:${TENANT}:${channel}`);
    await until('probe gone at frankfurt', 10_000, async () => ((await count('frankfurt', channel)) === base ? true : undefined), 10);
    await sleep(60); // stay under the probe connection's JOIN/LEAVE rate
    return ms;
  };
  const pct = (xs: number[], q: number): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  };
  const lat = (xs: number[]): string => `p50 ${pct(xs, 0.5).toFixed(0)} ms, p99 ${pct(xs, 0.99).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (${xs.length} probes)`;

  // 1. One channel, with probes in another channel while the joins flow.
  const b0 = await bytesNow();
  const t1 = performance.now();
  const joining1 = joinAll('one-channel', MEMBERS);
  const during: number[] = [];
  const duringAt: number[] = [];
  let storming = true;
  let probeError: unknown;
  const probing = (async () => {
    for (let i = 0; storming && i < 10_000; i++) {
      duringAt.push(performance.now() - t1);
      during.push(await probeOnce('m.probe', `d${i}`, 0));
    }
  })().catch((err: unknown) => {
    probeError = err;
  });
  const refused1 = await joining1;
  const sentMs = performance.now() - t1;
  for (const pop of POPS) await until(`${MEMBERS} members at ${pop}`, 120_000, async () => ((await count(pop, 'm.big')) === MEMBERS ? true : undefined), 50);
  const converged1 = performance.now() - t1;
  storming = false;
  await probing;
  if (probeError !== undefined) throw probeError instanceof Error ? probeError : new Error(JSON.stringify(probeError));
  const counts1 = await Promise.all(POPS.map((p) => count(p, 'm.big')));
  const b1 = await bytesNow();

  // 2. Join→visible into the full channel.
  const full: number[] = [];
  for (let i = 0; i < PROBES; i++) full.push(await probeOnce('m.big', `p${i}`, MEMBERS));

  // 3. Paging the full channel at Frankfurt.
  const t3 = performance.now();
  const seen = new Set<string>();
  let after: string | null = null;
  let pages = 0;
  let ordered = true;
  let prev = '';
  for (; pages < 10_000; pages++) {
    const p: { members: Array<{ clientId: string }>; next: string | null } = await page('frankfurt', 'm.big', `limit=1000${after === null ? '' : `&after=${encodeURIComponent(after)}`}`);
    for (const m of p.members) {
      if (m.clientId <= prev) ordered = false;
      prev = m.clientId;
      seen.add(m.clientId);
    }
    after = p.next;
    if (after === null) break;
  }
  const pagedMs = performance.now() - t3;

  // 4. Many channels.
  const b3 = await bytesNow();
  const t4 = performance.now();
  const total = CHANNELS * PER_CHANNEL;
  await joinAll('many-channels', total);
  const sent4 = performance.now() - t4;
  let wrong = 0;
  for (const pop of POPS) {
    for (let ch = 0; ch < CHANNELS; ch++) {
      await until(`channel ${ch} at ${pop}`, 60_000, async () => ((await count(pop, `m.ch${ch}`)) === PER_CHANNEL ? true : undefined), 20).catch(() => wrong++);
    }
  }
  const converged4 = performance.now() - t4;
  await sleep(500);
  const b4 = await bytesNow();

  const kib = (xs: number[]): string => xs.map((b) => `${(b / 1024).toFixed(0)} KiB`).join(' / ');
  const diff = (a: number[], b: number[]): number[] => a.map((x, i) => x - b[i]!);
  const rows: Array<[string, string]> = [
    [`gateways: 3 processes × ${CONNS} WebSocket connections (one process per PoP) opened`, `${openedMs.toFixed(0)} ms`],
    [`1. one channel, ${MEMBERS} members over 3 PoPs: joins sent (paced, 20/s per connection)`, `${sentMs.toFixed(0)} ms (${refused1} refused and resent)`],
    [`   every PoP counts ${MEMBERS}`, `${converged1.toFixed(0)} ms after the first join`],
    ['   count at tokyo / frankfurt / virginia', counts1.join(' / ')],
    ['   join at tokyo → visible at frankfurt, during the joins (other channel)', lat(during)],
    ['   the slowest of those probes started', `${(duringAt[during.indexOf(Math.max(...during))] ?? NaN).toFixed(0)} ms after the first join`],
    ['   PRESENCE bytes sent on mesh links, tokyo / frankfurt / virginia', kib(diff(b1, b0))],
    [`2. join at tokyo → visible at frankfurt, into the ${MEMBERS}-member channel`, lat(full)],
    [`3. paging it at frankfurt (limit 1000): ${pages + 1} pages`, `${pagedMs.toFixed(0)} ms, ${seen.size} distinct members, ${ordered ? 'in order' : 'OUT OF ORDER'}`],
    [`4. ${CHANNELS} channels × ${PER_CHANNEL} members: joins sent`, `${sent4.toFixed(0)} ms`],
    [`   all ${3 * CHANNELS} counts (channel × PoP) checked right, one REST call each`, `${converged4.toFixed(0)} ms after the first join${wrong > 0 ? `, ${wrong} WRONG` : ''}`],
    ['   PRESENCE bytes sent on mesh links, tokyo / frankfurt / virginia', kib(diff(b4, b3))],
    ['5. PRESENCE bytes per membership joined (all PoPs, all links)', `${(diff(b4, b0).reduce((a, b) => a + b, 0) / (MEMBERS + total)).toFixed(0)} bytes`],
    ['full member lists asked for (gaps), tokyo / frankfurt / virginia', (await fullRequests()).join(' / ')],
    ['total run', `${((performance.now() - startedAt) / 1000).toFixed(0)} s`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\nbench:presence (3 relays as processes, loopback + link emulator 20/10/15 ms)\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
  if (counts1.some((n) => n !== MEMBERS) || seen.size !== MEMBERS + 0 || wrong > 0) process.exitCode = 1;
} finally {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
  for (const s of sockets) s.terminate();
  await c.stop();
}
