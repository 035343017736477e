// One row of `npm run bench:connections`: a broker, a measured client, N idle connections from
// several load-generator processes, RSS and accept time, and (relay) the refusal at the limit.
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnChild, freePort, type Spawned } from '../fanout/processes.js';
import { rssBytes, cpuSeconds } from '../fanout/procstat.js';
import { getToken } from '../fanout/fastpubsub-adapter.js';
import { findNatsServer, NATS_MISSING } from '../fanout/nats-adapter.js';
import { natsProbe, relayProbe, type Probe, type ProbeResult } from './probe.js';

export interface RowOptions {
  connections: number;
  perProcess: number;
  probeRate: number;
  probeMs: number;
  payloadBytes: number;
  acceptTimeoutMs: number;
}

export type BrokerRow = 'fastpubsub' | 'fastpubsub-quic' | 'nats';

export interface RowResult {
  broker: BrokerRow;
  connections: number;
  idleRssBytes: number;
  loadedRssBytes: number;
  acceptMs: number;
  /** CPU-seconds the broker spent accepting and holding the connections. */
  acceptCpuSeconds: number;
  /** Handshakes the broker cut under the accept load (pre-auth bounds) and the generator retried. */
  retries: number;
  unloaded: ProbeResult;
  loaded: ProbeResult;
  /** Relay only: what connection N+1 was answered, whether /ping and /metrics still answered, SIGTERM exit. */
  refusal?: string;
  pingAndMetricsOk?: boolean;
  sigtermExit?: string;
}

interface Broker {
  pid: number;
  proc: Spawned;
  url: string;
  token?: string;
  httpUrl?: string;
  /** The QUIC edge (HOST:PORT) and its CA file, for the QUIC row. */
  quic?: { address: string; caFile: string };
  probe: Probe;
  cleanup(): void;
}

const LOAD_CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));
const RELAY_CHILD = fileURLToPath(new URL('./relay-child.ts', import.meta.url));

async function startFastPubSub(connections: number, withQuic: boolean): Promise<Broker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fps-bench-conn-'));
  const masterToken = randomBytes(16).toString('hex');
  // The idle connections, the probe's two, and one more: connection N+1 of the load is refused.
  const max = connections + 2;
  const proc = spawnChild(process.execPath, ['--conditions=development', '--import', 'tsx', RELAY_CHILD, '--master-token', masterToken, '--data-dir', dataDir, '--max-connections', String(max), ...(withQuic ? ['--quic'] : [])], 'relay');
  const cleanup = (): void => rmSync(dataDir, { recursive: true, force: true });
  try {
    const m = await proc.waitForLine(/listening on (http:\/\/\S+) \((ws:\/\/\S+)\)/, 30_000);
    const httpUrl = m[1] ?? '';
    const url = m[2] ?? '';
    const token = await getToken(httpUrl, masterToken);
    const probe = await relayProbe(url, token);
    const q = /quic edge on (\S+), CA (\S+)/.exec(proc.output());
    const quic = q?.[1] !== undefined && q[2] !== undefined ? { address: q[1], caFile: q[2] } : undefined;
    if (withQuic && quic === undefined) throw new Error(`relay: no QUIC edge line:\n${proc.output()}`);
    return { pid: proc.pid, proc, url, token, httpUrl, probe, cleanup, ...(quic === undefined ? {} : { quic }) };
  } catch (err) {
    await proc.stop();
    cleanup();
    throw err;
  }
}

async function startNats(): Promise<Broker> {
  const bin = findNatsServer();
  if (bin === undefined) throw new Error(NATS_MISSING);
  const port = await freePort();
  const proc = spawnChild(bin, ['-a', '127.0.0.1', '-p', String(port)], 'nats-server');
  await proc.waitForLine(/Server is ready/, 10_000);
  const url = `nats://127.0.0.1:${port}`;
  return { pid: proc.pid, proc, url, probe: await natsProbe(url), cleanup: () => undefined };
}

/** Opens `n` idle connections from ceil(n / perProcess) processes, each from its own 127.0.0.x. */
async function openIdle(b: Broker, kind: 'ws' | 'nats' | 'quic', n: number, o: RowOptions): Promise<{ children: Spawned[]; ms: number; retries: number }> {
  const children: Spawned[] = [];
  const processes = Math.ceil(n / o.perProcess);
  for (let k = 0; k < processes; k++) {
    const count = Math.min(o.perProcess, n - k * o.perProcess);
    const url = kind === 'quic' ? (b.quic?.address ?? '') : b.url;
    const args = ['--conditions=development', '--import', 'tsx', LOAD_CHILD, '--kind', kind, '--url', url, '--count', String(count), '--source', `127.0.0.${2 + k}`, '--prefix', `bench.idle.${k}`, '--timeout-ms', String(o.acceptTimeoutMs)];
    if (b.token !== undefined) args.push('--token', b.token);
    if (kind === 'quic') args.push('--ca', b.quic?.caFile ?? '');
    children.push(spawnChild(process.execPath, args, `load generator ${k}`));
  }
  const results = await Promise.all(children.map((c) => c.waitForLine(/^(ready|failed) \d+ (\d+) ?(\d*).*$/m, o.acceptTimeoutMs + 30_000)));
  // From the first connection attempt to the last OK:SUB, per generator (their start-up excluded).
  const ms = Math.max(...results.map((r) => Number(r[2])));
  const failed = results.find((r) => r[1] === 'failed');
  if (failed !== undefined) {
    for (const c of children) await c.stop();
    throw new Error(`load generator: ${failed[0]}`);
  }
  const retries = results.reduce((sum, r) => sum + (Number(r[3]) || 0), 0);
  return { children, ms, retries };
}

/** Connection N+1 on a full relay: the HTTP answer to its upgrade, then /ping and /metrics. */
async function checkRefusal(b: Broker): Promise<{ refusal: string; pingAndMetricsOk: boolean }> {
  const { default: WebSocket } = await import('ws');
  const refusal = await new Promise<string>((resolve) => {
    const ws = new WebSocket(b.url, ['llps.v1', `at.${b.token ?? ''}`], { perMessageDeflate: false });
    const timer = setTimeout(() => { ws.terminate(); resolve('no answer within 10 s'); }, 10_000);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => { clearTimeout(timer); resolve(`HTTP ${res.statusCode} ${body}`); });
    });
    ws.on('open', () => { clearTimeout(timer); ws.terminate(); resolve('accepted (not refused)'); });
    ws.on('error', () => undefined);
  });
  const ok = async (path: string): Promise<boolean> => {
    try {
      const res = await fetch(`${b.httpUrl ?? ''}${path}`, { signal: AbortSignal.timeout(5000) });
      await res.text();
      return res.ok;
    } catch {
      return false;
    }
  };
  return { refusal, pingAndMetricsOk: (await ok('/ping')) && (await ok('/metrics')) };
}

async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function runRow(broker: BrokerRow, o: RowOptions): Promise<RowResult> {
  const b = broker === 'nats' ? await startNats() : await startFastPubSub(o.connections, broker === 'fastpubsub-quic');
  let children: Spawned[] = [];
  try {
    await b.probe.measure(o.probeRate, Math.min(1000, o.probeMs), o.payloadBytes); // warm-up
    const unloaded = await b.probe.measure(o.probeRate, o.probeMs, o.payloadBytes);
    await settle(500);
    const idleRssBytes = rssBytes(b.pid);
    const cpu0 = cpuSeconds(b.pid);
    const opened = await openIdle(b, broker === 'nats' ? 'nats' : broker === 'fastpubsub' ? 'ws' : 'quic', o.connections, o);
    children = opened.children;
    const acceptCpuSeconds = cpuSeconds(b.pid) - cpu0;
    await settle(1000);
    const loaded = await b.probe.measure(o.probeRate, o.probeMs, o.payloadBytes);
    const loadedRssBytes = rssBytes(b.pid);
    const row: RowResult = { broker, connections: o.connections, idleRssBytes, loadedRssBytes, acceptMs: opened.ms, acceptCpuSeconds, retries: opened.retries, unloaded, loaded };
    if (broker === 'fastpubsub') {
      Object.assign(row, await checkRefusal(b));
      await b.probe.close();
      const t0 = performance.now();
      b.proc.child.kill('SIGTERM');
      const code = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('still running after 15 s'), 15_000);
        b.proc.child.once('exit', (c, s) => { clearTimeout(timer); resolve(`exit ${c ?? s} in ${Math.round(performance.now() - t0)} ms`); });
      });
      row.sigtermExit = code;
    }
    return row;
  } finally {
    for (const c of children) await c.stop();
    await b.probe.close().catch(() => undefined);
    await b.proc.stop();
    b.cleanup();
  }
}
