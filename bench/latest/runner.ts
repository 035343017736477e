// The part of `npm run bench:latest` that runs INSIDE the namespace (main.ts starts it). One
// relay process; in this process: a publisher sending every channel's state at `hz` as PUB
// datagrams (the same input reaches every row; a publish lost on the way in is lost for all),
// and three subscribers of `bench.state.#`, each on its own connection:
//   latest, QUIC datagrams   SUB with the LATEST flag: 200 B states fit a datagram
//   reliable, QUIC stream    plain SUB: one subscription stream, every state, in order
//   WebSocket                SUB …:L: latest mode, coalescing in the relay's queue, over TCP
// Per level: set the nft loss, wait the warm-up, record for the duration, sample ages at 1 kHz.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { QuicEdgeClient } from '@fastpubsub/client/quic';
import { decodeDelivery } from '@fastpubsub/wire';
import { UdpLinkEmulator } from '@fastpubsub/testkit';
import { startRelay, TENANT } from '../fanout/fastpubsub-adapter.js';
import { applyLoss, currentNetns, droppedPackets, NETNS_PREFIX } from '../loss/netns.js';
import { AgeTracker, encodeState, goalChecks, percentile, renderLatestTable, type LatestRow } from './age.js';
import { LatestUsageError, parseLatestArgs } from './options.js';

const DEFAULT_OUT = fileURLToPath(new URL('../results/latest-latest.md', import.meta.url));
const log = (line: string): void => { process.stderr.write(`${line}\n`); };
let opts;
try {
  opts = parseLatestArgs(process.argv.slice(2), DEFAULT_OUT);
} catch (err) {
  if (!(err instanceof LatestUsageError)) throw err;
  log(`bench:latest: ${err.message}`);
  process.exit(2);
}
const ns = currentNetns();
if (ns === undefined || !ns.startsWith(NETNS_PREFIX) || ns !== process.env.FPS_LOSS_NETNS) {
  log('bench:latest runner: must run inside its namespace; start it with npm run bench:latest');
  process.exit(2);
}

const PATTERN = 'bench.state.#';
const channels = Array.from({ length: opts.channels }, (_, i) => `bench.state.${i}`);
const ROWS = { latest: 'latest, QUIC datagrams', reliable: 'reliable, QUIC stream', ws: 'WebSocket (latest, TCP)' } as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

applyLoss(0);
const relay = await startRelay();
const edge = relay.quic;
if (edge === undefined) throw new Error('the relay printed no QUIC edge address');
const quicOpts = { host: edge.host, port: edge.port, token: edge.token, caPem: edge.caPem, serverName: '127.0.0.1', timeoutMs: 20_000 };
const trackers = new Map<string, AgeTracker>(Object.values(ROWS).map((label) => [label, new AgeTracker()]));
const tracker = (label: string): AgeTracker => trackers.get(label) as AgeTracker;
const clients: QuicEdgeClient[] = [];
let wsSocket: WebSocket | undefined;
const rows: LatestRow[] = [];
let emulator: UdpLinkEmulator | undefined;
let emulated: { latest: string; reliable: string } | undefined;
const notes: string[] = [];
const started = new Date();
try {
  const quicSubscriber = async (label: string, latest: boolean, port: number): Promise<void> => {
    const c = await QuicEdgeClient.connect({ ...quicOpts, port });
    clients.push(c);
    const sub = c.subscribe(TENANT, PATTERN, { latest });
    const t = tracker(label);
    sub.onMessage = (m) => t.arrive(m.channel, m.data, performance.now());
    await sub.ready;
  };
  await quicSubscriber(ROWS.latest, true, edge.port);
  await quicSubscriber(ROWS.reliable, false, edge.port);
  const wsUrl = relay.output().match(/listening on \S+ \((ws:\/\/\S+)\)/)?.[1];
  if (wsUrl === undefined) throw new Error('no WebSocket URL in the relay output');
  wsSocket = new WebSocket(wsUrl, ['llps.v1', `at.${edge.token}`], { perMessageDeflate: false });
  const ws = wsSocket;
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const wsReady = new Promise<void>((resolve) => ws.on('message', (data, binary) => {
    if (!binary) return void ((data as Buffer).toString().startsWith('OK:SUB:') && resolve());
    const d = decodeDelivery(new Uint8Array(data as Buffer));
    tracker(ROWS.ws).arrive(d.channel, d.payload, performance.now());
  }));
  ws.send(`SUB:${TENANT}:${PATTERN}:L`);
  await wsReady;

  const publisher = await QuicEdgeClient.connect(quicOpts);
  clients.push(publisher);
  const seqs = new Map<string, number>();
  let published = 0;
  let running = true;
  const periodMs = 1000 / opts.hz;
  const t0 = performance.now();
  const publishLoop = (async () => {
    for (let tick = 1; running; tick++) {
      for (const ch of channels) {
        const seq = (seqs.get(ch) ?? 0) + 1;
        seqs.set(ch, seq);
        publisher.publish(TENANT, ch, encodeState(performance.now(), seq), { datagram: true });
        published++;
      }
      const wait = t0 + tick * periodMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
  })();
  const sampler = setInterval(() => {
    const now = performance.now();
    for (const t of trackers.values()) t.sample(channels, now);
  }, 1);

  const superseded = async (): Promise<number> => {
    const text = await (await fetch(`${relay.output().match(/listening on (http:\/\/\S+)/)?.[1] ?? ''}/metrics`)).text();
    return Number(/^fastpubsub_dropped_messages_total\{reason="superseded"\} (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
  };
  /** One loss level: `setLoss`, warm up, record the rows' trackers for the duration. */
  const measure = async (pct: number, labels: readonly string[], setLoss: () => void): Promise<void> => {
    setLoss();
    await sleep(opts.warmupMs);
    for (const l of labels) { tracker(l).reset(); tracker(l).recording = true; }
    const pub0 = published;
    const sup0 = await superseded();
    await sleep(opts.durationMs);
    for (const l of labels) tracker(l).recording = false;
    const sup = (await superseded()) - sup0;
    for (const label of labels) {
      const t = tracker(label);
      const r: LatestRow = {
        lossPct: pct, label,
        ageP50: percentile(t.sampled, 0.5), ageP99: percentile(t.sampled, 0.99),
        arrivalP50: percentile(t.onArrival, 0.5), arrivalP99: percentile(t.onArrival, 0.99),
        received: t.received, published: published - pub0,
        superseded: label.startsWith('reliable') ? 0 : sup, // relay-wide; only latest subscribers supersede
      };
      rows.push(r);
      log(`${String(pct).padStart(3)} % ${r.label.padEnd(36)} age p50 ${r.ageP50.toFixed(1)} p99 ${r.ageP99.toFixed(1)} ms; on arrival p50 ${r.arrivalP50.toFixed(1)} p99 ${r.arrivalP99.toFixed(1)} ms; ${r.received}/${r.published}`);
    }
  };
  for (const pct of opts.loss) {
    await measure(pct, Object.values(ROWS), () => applyLoss(pct));
    notes.push(`${pct} %: ${droppedPackets()} packets dropped by the nft rule`);
  }
  applyLoss(0);
  if (opts.rttMs > 0) {
    // Phase 2: the subscriber leg through a userspace link with a real round trip; the
    // publisher stays direct (no loss), so only delivery is affected.
    emulated = { latest: `latest, QUIC datagrams, ${opts.rttMs} ms RTT`, reliable: `reliable, QUIC stream, ${opts.rttMs} ms RTT` };
    for (const label of Object.values(emulated)) trackers.set(label, new AgeTracker());
    emulator = await UdpLinkEmulator.start({ a: { host: '127.0.0.1', port: 0 }, b: { host: edge.host, port: edge.port }, link: { delayMs: opts.rttMs / 2 } });
    const emu = emulator;
    await quicSubscriber(emulated.latest, true, emu.addressForA.port);
    await quicSubscriber(emulated.reliable, false, emu.addressForA.port);
    for (const pct of opts.loss) await measure(pct, Object.values(emulated), () => emu.setLink({ lossRate: pct / 100, delayMs: opts.rttMs / 2 }));
  }
  running = false;
  clearInterval(sampler);
  await publishLoop;
} finally {
  try { applyLoss(0); } catch { /* the namespace goes away anyway */ }
  await emulator?.close();
  wsSocket?.terminate();
  for (const c of clients) c.close();
  await relay.stop();
}

const table = renderLatestTable(rows);
const goalLines = goalChecks(rows, ROWS.latest, ROWS.reliable, ROWS.ws);
if (emulated !== undefined) goalLines.push(...goalChecks(rows, emulated.latest, emulated.reliable, ROWS.ws).map((l) => `${l} (emulated ${opts.rttMs} ms RTT, against the nft WebSocket row)`));
const goals = goalLines.join('\n');
const settings = `${opts.channels} channels × ${opts.hz} Hz × 200 B, published as PUB datagrams; ${opts.durationMs / 1000} s measured per level after ${opts.warmupMs / 1000} s; ages sampled every 1 ms per channel;${opts.rttMs > 0 ? ` phase 2: the two QUIC subscribers through a userspace UDP link emulator (${opts.rttMs / 2} ms each way, the loss applied by the emulator per packet and direction, nft at 0 %), publisher direct;` : ''} superseded = the relay's fastpubsub_dropped_messages_total{reason="superseded"} over the level (all latest subscribers)`;
const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}, 1-min load ${(loadavg()[0] ?? 0).toFixed(1)} at end`;
process.stdout.write(`\n${table}\n\nGoal (p99 age):\n${goals}\n\n${notes.join('; ')}\n${settings}\n${machine}\n`);
if (opts.out !== undefined) {
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, ['# Latest-mode benchmark: latest run', '', `Written by \`npm run bench:latest\` on ${started.toISOString()}. Method: docs/latest-mode.md.`, '', table, '', '## Goal (p99 age)', '', goals, '', `Packets dropped: ${notes.join('; ')}.`, '', `Settings: ${settings}.`, '', `Machine: ${machine}.`, ''].join('\n'));
  log(`bench:latest: wrote ${opts.out}`);
}
process.exit(0);
