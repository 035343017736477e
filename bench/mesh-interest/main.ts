// bench:mesh-interest — how long after a PoP confirms a subscription (OK:SUB) every other PoP
// routes matching publishes to it. Default topology (Tokyo→Frankfurt 240 ms direct, 70 + 150 ms
// via Singapore), relays as processes behind the link emulator, a subscriber at Frankfurt.
// Per run: publishers at Tokyo and Singapore publish a timestamped message on a fresh channel
// every millisecond; the subscriber sends SUB for that channel; for each remote PoP
//   learn time = send time of the first message of that PoP delivered − arrival of OK:SUB
// (the PoP forwarded nothing sent earlier, so it routed here from that moment, ±1 ms), compared
// with the emulated one-way delay of the PoP's current path to Frankfurt (the route's cost,
// which adds a jitter term, is shown too). Also: OK:SUB → the
// MESHREADY answer (every PoP acknowledged; what the SDK's `meshReady` subscribe waits for).
// Usage: npm run bench:mesh-interest -- [--runs N] (default 20, each ~1 s).
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { WsClient, cluster, routes, seqOf, sleep, stamp, until, waitPath } from '../../packages/relay/test/mesh-helpers.js';

const USAGE = `Usage: npm run bench:mesh-interest -- [--runs N]

How long after a PoP confirms a subscription (OK:SUB) every other PoP routes matching publishes
to it, next to the path's one-way delay, and when the MESHREADY answer comes (default topology,
relays as processes behind the link emulator).
  --runs N     runs (default 20, at most 200; about 1 s each)
  -h, --help   this help (runs nothing)
`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Math.max(1, Math.min(200, Number(values.runs)));
const topology = JSON.parse(readFileSync(new URL('../../topologies/default.json', import.meta.url), 'utf8')) as {
  links: Array<{ a: string; b: string; delayMs: number }>;
};
const REMOTES = ['tokyo', 'singapore'] as const;
const RUN_MS = 1000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const c = await cluster(topology);
const learn: Record<string, number[]> = { tokyo: [], singapore: [] };
const path: Record<string, number[]> = { tokyo: [], singapore: [] };
const cost: Record<string, number[]> = { tokyo: [], singapore: [] };

/** The emulated one-way delay along a route's path (sum of its links' delayMs). */
function pathDelayMs(hops: readonly string[]): number {
  let sum = 0;
  for (let i = 1; i < hops.length; i++) {
    const l = topology.links.find((x) => (x.a === hops[i - 1] && x.b === hops[i]) || (x.b === hops[i - 1] && x.a === hops[i]));
    sum += l?.delayMs ?? NaN;
  }
  return sum;
}
const ready: number[] = [];
try {
  await waitPath(c, 'tokyo', 'frankfurt', ['tokyo', 'singapore', 'frankfurt'], 60_000);
  const sub = await WsClient.open(c, 'frankfurt');
  const pubs = new Map<string, WsClient>();
  for (const id of REMOTES) pubs.set(id, await WsClient.open(c, id));
  const texts: Array<{ text: string; at: number }> = [];
  sub.ws.on('message', (d, binary) => {
    if (!binary) texts.push({ text: (d as Buffer).toString(), at: performance.now() });
  });

  for (let run = 0; run < RUNS; run++) {
    const channel = `m.interest${run}`;
    for (const id of REMOTES) {
      const r = (await routes(c, id)).find((x) => x.dest === 'frankfurt');
      if (r !== undefined) {
        path[id]!.push(pathDelayMs(r.path));
        cost[id]!.push(r.pathLatencyMs);
      }
    }
    sub.received.length = 0;
    // Sequence numbers encode the publishing PoP: Tokyo even, Singapore odd.
    let seq = 0;
    const start = performance.now();
    const publishing = (async () => {
      while (performance.now() - start < RUN_MS) {
        REMOTES.forEach((id, i) => pubs.get(id)!.publish(channel, stamp(seq * 2 + i)));
        seq++;
        await sleep(1);
      }
    })();
    await sleep(50); // publishes are flowing (and going nowhere) before the SUB
    sub.ws.send(`SUB:t1:${channel}`);
    sub.ws.send(`MESHREADY:t1:${channel}`);
    const ok = await until(`OK:SUB ${channel}`, 5000, () => texts.find((t) => t.text === `OK:SUB:t1:${channel}`), 1);
    const meshReady = await until(`MESHREADY ${channel}`, 6000, () => texts.find((t) => t.text.startsWith(`MESHREADY:t1:${channel}`)), 5);
    await publishing;
    await sleep(400); // the last copies in flight
    if (meshReady.text === `MESHREADY:t1:${channel}`) ready.push(meshReady.at - ok.at);
    REMOTES.forEach((id, i) => {
      const first = sub.received.filter((r) => seqOf(r) % 2 === i).map((r) => r.payload.readDoubleBE(8)).sort((a, b) => a - b)[0];
      if (first !== undefined) learn[id]!.push(first - ok.at);
    });
    sub.ws.send(`UNSUB:t1:${channel}`);
    texts.length = 0;
  }
  sub.close();
  for (const p of pubs.values()) p.close();
} finally {
  await c.stop();
}

const rows = REMOTES.map((id) => {
  const l = learn[id]!;
  const p = pct(path[id]!, 50);
  return { id, n: l.length, p50: pct(l, 50), p99: pct(l, 99), max: Math.max(...l), path: p, cost: pct(cost[id]!, 50) };
});
process.stdout.write(`\nOK:SUB at Frankfurt → remote PoP routes to it (${RUNS} runs, publishes every 1 ms)\n\n`);
process.stdout.write('| PoP | runs | p50 ms | p99 ms | max ms | path one-way delay ms | p50 − delay | p99 − delay | route cost ms |\n|---|---|---|---|---|---|---|---|---|\n');
for (const r of rows) {
  process.stdout.write(
    `| ${r.id} | ${r.n}/${RUNS} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.path.toFixed(1)} | ${(r.p50 - r.path).toFixed(1)} | ${(r.p99 - r.path).toFixed(1)} | ${r.cost.toFixed(1)} |\n`,
  );
}
process.stdout.write(
  `\nOK:SUB → MESHREADY (every PoP acknowledged; the SDK's meshReady wait): p50 ${pct(ready, 50).toFixed(1)} ms, p99 ${pct(ready, 99).toFixed(1)} ms (${ready.length}/${RUNS} complete)\n`,
);
process.exitCode = rows.every((r) => r.n === RUNS) && ready.length === RUNS ? 0 : 1;
