// bench:failover — how long the mesh loses messages when a relay on the active path dies.
// Default topology (Tokyo→Frankfurt 240 ms direct, 70 + 150 ms via Singapore), default mesh
// settings (500 ms probes, 800 ms dead timer), relays as processes behind the link emulator.
// Per run: wait until Tokyo routes to Frankfurt via Singapore, publish at Tokyo every 5 ms,
// SIGKILL Singapore, and measure at the Frankfurt subscriber:
//   failover  = send time of the first message delivered after the kill (over the new path)
//               minus the kill time: the span during which publishes were lost;
//   detection = kill → Tokyo's /v1/mesh/routes shows the direct path;
//   duplicates (must be 0) and messages lost (those in flight on the dead path included).
// Usage: npm run bench:failover -- [--runs N] (default 3). Target: failover < 1000 ms.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { WsClient, cluster, routes, seqOf, sleep, stamp, until } from '../../packages/relay/test/mesh-helpers.js';

const USAGE = `Usage: npm run bench:failover -- [--runs N]

How long the mesh loses messages when a relay on the active path dies (Tokyo → Singapore →
Frankfurt behind the link emulator; Singapore is killed). Target: failover < 1000 ms.

Options:
  --runs N     repetitions (default 3)
  -h, --help   this help (runs nothing)
`;

const { values } = (() => {
  try {
    return parseArgs({ options: { runs: { type: 'string', default: '3' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (err) {
    process.stderr.write(`bench:failover: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(2);
  }
})();
if (values.help === true) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const RUNS = Math.max(1, Number(values.runs));
const topology = JSON.parse(readFileSync(new URL('../../topologies/default.json', import.meta.url), 'utf8')) as unknown;
const INTERVAL_MS = 5;

interface Result {
  failoverMs: number;
  detectionMs: number;
  lost: number;
  duplicates: number;
  sent: number;
}

async function once(): Promise<Result> {
  const c = await cluster(topology);
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
      const s = seq++;
      const p = stamp(s);
      sentAt.set(s, p.readDoubleBE(8));
      pub.publish('m.failover', p);
      if (killAt === 0 && performance.now() - start > 1500) {
        killAt = performance.now();
        c.kill('singapore');
      }
      await sleep(INTERVAL_MS);
    }
    await poller;
    await sleep(1000);
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
    };
  } finally {
    await c.stop();
  }
}

const results: Result[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await once();
  results.push(r);
  process.stdout.write(
    `run ${i + 1}: failover ${r.failoverMs.toFixed(0)} ms, route switch seen after ${r.detectionMs.toFixed(0)} ms, lost ${r.lost}/${r.sent}, duplicates ${r.duplicates}\n`,
  );
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = med(results.map((r) => r.failoverMs));
process.stdout.write(
  `\nfailover (median of ${RUNS}): ${f.toFixed(0)} ms (target < 1000 ms); route switch visible: ${med(results.map((r) => r.detectionMs)).toFixed(0)} ms; ` +
    `duplicates: ${results.reduce((a, r) => a + r.duplicates, 0)}\n` +
    `settings: probes every 500 ms, dead after 800 ms, publish every ${INTERVAL_MS} ms; topology topologies/default.json\n`,
);
process.exitCode = results.every((r) => r.duplicates === 0 && Number.isFinite(r.failoverMs)) ? 0 : 1;
