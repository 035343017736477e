// bench:failover — how many messages the mesh loses when a relay on the active path dies, with
// and without node-disjoint redundancy (mesh `redundantChannels`).
// Default topology (Tokyo→Frankfurt 240 ms direct, 70 + 150 ms via Singapore), default mesh
// settings (probes and dead timer as in the relay defaults), relays as processes behind the
// link emulator. Per run: wait until Tokyo routes to Frankfurt via Singapore, publish at Tokyo
// at 1000 msg/s (5 every 5 ms), SIGKILL Singapore, and measure at the Frankfurt subscriber:
//   failover  = send time of the first message delivered after the kill (over the new path)
//               minus the kill time: the span during which publishes were lost;
//   detection = kill → Tokyo's /v1/mesh/routes shows the direct path;
//   duplicates (must be 0) and messages lost (those in flight on the dead path included);
//   copies = FWD frames Tokyo sent per published message (the price of redundancy).
// Usage: npm run bench:failover -- [--runs N] (default 2 per mode) [--mode plain|redundant|both].
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { WsClient, cluster, links, routes, seqOf, sleep, stamp, until } from '../../packages/relay/test/mesh-helpers.js';

const USAGE = `Usage: npm run bench:failover -- [--runs N] [--mode plain|redundant|both]

Messages lost when a relay on the active path dies at 1000 msg/s (Tokyo → Singapore → Frankfurt
behind the link emulator; Singapore is killed), with one path (plain) and with node-disjoint
redundant delivery (redundant).

Options:
  --runs N     repetitions per mode (default 2, at most 20)
  --mode M     plain | redundant | both (default both)
  -h, --help   this help (runs nothing)
`;

const { values } = (() => {
  try {
    return parseArgs({
      options: { runs: { type: 'string', default: '2' }, mode: { type: 'string', default: 'both' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`bench:failover: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(2);
  }
})();
if (values.help === true) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const RUNS = Math.max(1, Math.min(20, Number(values.runs)));
const MODES = values.mode === 'both' ? ['plain', 'redundant'] : [values.mode ?? 'both'];
if (!MODES.every((m) => m === 'plain' || m === 'redundant')) {
  process.stderr.write(`bench:failover: --mode must be plain, redundant or both, got ${values.mode}\n\n${USAGE}`);
  process.exit(2);
}
const topology = JSON.parse(readFileSync(new URL('../../topologies/default.json', import.meta.url), 'utf8')) as unknown;
const INTERVAL_MS = 5;
const PER_INTERVAL = 5; // 1000 msg/s

interface Result {
  failoverMs: number;
  detectionMs: number;
  lost: number;
  duplicates: number;
  sent: number;
  copiesPerMessage: number;
}

async function tokyoFwdSent(c: Awaited<ReturnType<typeof cluster>>): Promise<number> {
  return (await links(c, 'tokyo')).reduce((a, l) => a + l.messagesSent, 0);
}

async function once(mode: string): Promise<Result> {
  const c = await cluster(topology, mode === 'redundant' ? { mesh: { redundantChannels: ['m.#'] } } : {});
  try {
    const sub = await WsClient.open(c, 'frankfurt');
    await sub.subscribe('m.#');
    const pub = await WsClient.open(c, 'tokyo');
    let streak = 0;
    await until('relayed route converged', 60_000, async () => {
      const r = (await routes(c, 'tokyo')).find((x) => x.dest === 'frankfurt');
      streak = r?.path.join() === 'tokyo,singapore,frankfurt' && r.pathLatencyMs < 236 ? streak + 1 : 0;
      return streak >= 3 ? true : undefined;
    }, 300);
    await until('subscription known at Tokyo', 10_000, async () => {
      pub.publish('m.warm', stamp(0));
      await sleep(400);
      return sub.received.length > 0 ? true : undefined;
    });
    sub.received.length = 0;
    const fwdBefore = await tokyoFwdSent(c);

    let seq = 1;
    const sentAt = new Map<number, number>();
    let killAt = 0;
    let detectedAt = 0;
    const start = performance.now();
    const poller = (async () => {
      while (detectedAt === 0 && performance.now() - start < 8000) {
        if (killAt > 0) {
          const r = (await routes(c, 'tokyo')).find((x) => x.dest === 'frankfurt');
          if (r?.path.join() === 'tokyo,frankfurt') detectedAt = performance.now();
        }
        await sleep(20);
      }
    })();
    while (performance.now() - start < 5000) {
      for (let k = 0; k < PER_INTERVAL; k++) {
        const s = seq++;
        const p = stamp(s);
        sentAt.set(s, p.readDoubleBE(8));
        pub.publish('m.failover', p);
      }
      if (killAt === 0 && performance.now() - start > 1500) {
        killAt = performance.now();
        c.kill('singapore');
      }
      await sleep(INTERVAL_MS);
    }
    await poller;
    await sleep(1000);
    const fwdSent = (await tokyoFwdSent(c)) - fwdBefore;
    const seqs = sub.received.map(seqOf);
    const got = new Set(seqs);
    const firstAfter = [...got].map((s) => sentAt.get(s)!).filter((t) => t > killAt).sort((a, b) => a - b)[0];
    pub.close();
    sub.close();
    return {
      failoverMs: firstAfter === undefined ? Infinity : firstAfter - killAt,
      detectionMs: detectedAt === 0 ? Infinity : detectedAt - killAt,
      lost: sentAt.size - got.size,
      duplicates: seqs.length - got.size,
      sent: sentAt.size,
      copiesPerMessage: fwdSent / sentAt.size,
    };
  } finally {
    await c.stop();
  }
}

const summary: string[] = [];
let ok = true;
for (const mode of MODES) {
  const results: Result[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await once(mode);
    results.push(r);
    process.stdout.write(
      `${mode} run ${i + 1}: lost ${r.lost}/${r.sent}, loss window ${r.failoverMs.toFixed(0)} ms, route switch seen after ${r.detectionMs.toFixed(0)} ms, duplicates ${r.duplicates}, FWD copies per message ${r.copiesPerMessage.toFixed(2)}\n`,
    );
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  summary.push(
    `| ${mode === 'redundant' ? 'node-disjoint redundancy' : 'one path'} | ${results.map((r) => r.lost).join(', ')} | ${med(results.map((r) => r.failoverMs)).toFixed(0)} | ` +
      `${med(results.map((r) => r.detectionMs)).toFixed(0)} | ${results.reduce((a, r) => a + r.duplicates, 0)} | ${med(results.map((r) => r.copiesPerMessage)).toFixed(2)} |`,
  );
  ok &&= results.every((r) => r.duplicates === 0 && Number.isFinite(r.failoverMs)) && (mode !== 'redundant' || results.every((r) => r.lost === 0));
}
process.stdout.write(
  `\nSingapore SIGKILLed mid-stream, 1000 msg/s Tokyo → Frankfurt, ${RUNS} run(s) per mode\n\n` +
    '| mode | lost per run | loss window ms (median) | route switch seen ms | duplicates | FWD copies per message at Tokyo |\n|---|---|---|---|---|---|\n' +
    summary.join('\n') +
    `\n\nsettings: relay mesh defaults (probe interval, dead timer), topology topologies/default.json\n`,
);
process.exitCode = ok ? 0 : 1;
