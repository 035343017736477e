// `npm run bench:mesh -- --workers`: the multi-core design measured on its data path. One relay
// (one worker) against two relays linked over loopback (two workers whose local fan-out is the
// mesh, docs/performance.md "Using every core"), each relay pinned to its own core with taskset.
// Publisher processes publish flat out, split over the workers; the subscribers of one channel
// (--fanout connections) are split over the workers too, so a publish at one worker is delivered
// to its own half and forwarded once to the other. Reports deliveries/s (counted until every
// backlog is delivered) and the relays' CPU-seconds per million deliveries, read from /proc.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { TENANT, issueMeshToken, links } from '@fastpubsub/testkit/relay';
import { cpuSeconds } from '../fanout/procstat.js';
import { spawnChild, type Spawned } from '../fanout/processes.js';
import { startLine, type LineCluster } from './line.js';

export interface WorkersOptions {
  seconds: number;
  size: number;
  fanout: number;
  publishers: number;
  repeat: number;
}

interface WorkersRun { workers: number; deliveriesPerSec: number; relayCores: number; cpuPerMillion: number; perSubscriber: number[]; link: { sent: number; dropped: number } }

const PUBLISHER_CHILD = fileURLToPath(new URL('./publisher-child.ts', import.meta.url));
const SUBSCRIBER_CHILD = fileURLToPath(new URL('./subscriber-child.ts', import.meta.url));
const TSX = ['--conditions=development', '--import', 'tsx'];

/** Pins a process to one core; false when taskset is missing or refuses. */
function pin(pid: number, core: number): boolean {
  try {
    execFileSync('taskset', ['-pc', String(core), String(pid)], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Back to every core, for the next row. */
function unpin(pid: number): void {
  try {
    execFileSync('taskset', ['-pac', `0-${Math.max(0, cpus().length - 1)}`, String(pid)], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // taskset missing: nothing was pinned
  }
}

/** A's link to B: messages sent and dropped from its queue (/v1/mesh/links). */
async function linkAB(c: LineCluster): Promise<{ sent: number; dropped: number }> {
  const l = (await links(c, 'a')).find((x) => x.peer === 'b');
  return { sent: l?.messagesSent ?? Number.NaN, dropped: l?.queueDropped ?? Number.NaN };
}

let marks = 0;
async function counts(subs: Spawned[]): Promise<number[]> {
  const mark = `m${++marks}`;
  for (const s of subs) s.child.stdin?.write(`${mark}\n`);
  const lines = await Promise.all(subs.map((s) => s.waitForLine(new RegExp(`^count ${mark} (\\d+)$`, 'm'), 30_000)));
  return lines.map((m) => Number(m[1]));
}

async function oneRun(c: LineCluster, workers: 1 | 2, run: number, o: WorkersOptions, pinned: { ok: boolean }): Promise<WorkersRun> {
  const ids = workers === 1 ? ['a'] : ['a', 'b'];
  const channel = `m.w${workers}.${run}`;
  const tokens = new Map<string, string>();
  for (const id of ids) tokens.set(id, await issueMeshToken(c, id));
  const children: Spawned[] = [];
  try {
    const subs = ids.map((id, k) => {
      const n = Math.floor(o.fanout / ids.length) + (k < o.fanout % ids.length ? 1 : 0);
      const s = spawnChild(process.execPath, [...TSX, SUBSCRIBER_CHILD, '--url', c.nodes.get(id)!.wsUrl, '--token', tokens.get(id)!, '--tenant', TENANT, '--pattern', channel, '--connections', String(n)], `subscribers at ${id}`);
      children.push(s);
      return s;
    });
    await Promise.all(subs.map((s) => s.waitForLine(/^ready$/m, 30_000)));
    await new Promise((r) => setTimeout(r, 1500)); // the subscriptions' interest reaches the other worker
    const pubs = Array.from({ length: o.publishers }, (_, k) => {
      const id = ids[k % ids.length]!;
      const p = spawnChild(process.execPath, [...TSX, PUBLISHER_CHILD, '--url', c.nodes.get(id)!.wsUrl, '--token', tokens.get(id)!, '--tenant', TENANT, '--channel', channel, '--seconds', String(o.seconds), '--size', String(o.size)], `publisher ${k}`);
      children.push(p);
      return p;
    });
    await Promise.all(pubs.map((p) => p.waitForLine(/^open$/m, 30_000)));
    // Relays on their own cores; with one worker the load generators get the other core.
    for (const [k, id] of ids.entries()) pinned.ok = pin(c.nodes.get(id)!.pid, k) && pinned.ok;
    if (workers === 1) for (const ch of children) pin(ch.pid, 1);
    const link0 = await linkAB(c);
    const before = await counts(subs);
    const cpu0 = ids.map((id) => cpuSeconds(c.nodes.get(id)!.pid));
    const t0 = performance.now();
    for (const p of pubs) p.child.stdin?.write('go\n');
    await Promise.all(pubs.map((p) => p.waitForLine(/^sent \d+/m, o.seconds * 1000 + 30_000)));
    // Whatever the relays still hold is delivered before the window closes (the count stops
    // growing for 500 ms, at most 20 s): the rate is deliveries over the time to deliver them.
    let after = await counts(subs);
    let lastChange = performance.now();
    for (const drainEnd = performance.now() + 20_000; performance.now() < drainEnd && performance.now() - lastChange < 500; ) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await counts(subs);
      if (now.some((n, k) => n !== after[k])) lastChange = performance.now();
      after = now;
    }
    const elapsed = (lastChange - t0) / 1000;
    const cpu = ids.reduce((sum, id, k) => sum + cpuSeconds(c.nodes.get(id)!.pid) - (cpu0[k] ?? 0), 0);
    const delivered = after.reduce((sum, n, k) => sum + n - (before[k] ?? 0), 0);
    const link1 = await linkAB(c);
    return {
      workers,
      deliveriesPerSec: delivered / elapsed,
      relayCores: cpu / elapsed,
      cpuPerMillion: (cpu / delivered) * 1e6,
      perSubscriber: after.map((n, k) => n - (before[k] ?? 0)),
      link: { sent: link1.sent - link0.sent, dropped: link1.dropped - link0.dropped },
    };
  } finally {
    for (const ch of children) await ch.stop();
    // Unpinned again for the next row (all cores).
    for (const id of ids) unpin(c.nodes.get(id)!.pid);
    await new Promise((r) => setTimeout(r, 1000)); // backlogs drain
  }
}

export async function runWorkers(o: WorkersOptions): Promise<string> {
  const cluster = await startLine();
  const runs: WorkersRun[] = [];
  const pinned = { ok: true };
  try {
    for (let i = 0; i < o.repeat; i++) {
      for (const w of [1, 2] as const) {
        process.stderr.write(`bench:mesh --workers: ${w} worker(s), run ${i + 1}/${o.repeat}\n`);
        runs.push(await oneRun(cluster, w, i, o, pinned));
      }
    }
  } finally {
    await cluster.stop();
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[(s.length - 1) >> 1] ?? Number.NaN;
  };
  const rows = ([1, 2] as const).map((w) => {
    const rs = runs.filter((r) => r.workers === w);
    return `| ${w} | ${o.publishers} | ${o.fanout} | ${Math.round(median(rs.map((r) => r.deliveriesPerSec)))} | ${median(rs.map((r) => r.relayCores)).toFixed(2)} | ${median(rs.map((r) => r.cpuPerMillion)).toFixed(2)} |`;
  });
  const one = median(runs.filter((r) => r.workers === 1).map((r) => r.deliveriesPerSec));
  const two = median(runs.filter((r) => r.workers === 2).map((r) => r.deliveriesPerSec));
  return [
    `Workers as relays linked over loopback (the mesh is the local fan-out), ${o.size} B, publishers flat out for ${o.seconds} s, medians of ${o.repeat}; relays ${pinned.ok ? 'pinned one per core with taskset' : 'NOT pinned (taskset failed)'}.`,
    '',
    '| workers | publisher processes | fan-out | deliveries/s | relay CPU (cores) | relay CPU-s per million deliveries |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Throughput, 2 workers / 1: ${(two / one).toFixed(2)}×. Last run: deliveries per subscriber process ${runs.slice(-2).map((r) => r.perSubscriber.join('/')).join(' and ')}; with 2 workers A sent ${runs.at(-1)?.link.sent ?? '?'} messages to B and its link queue dropped ${runs.at(-1)?.link.dropped ?? '?'}.`,
    '',
  ].join('\n');
}
