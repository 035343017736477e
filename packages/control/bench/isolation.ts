// Tenant isolation under load: the quiet tenant's publish-to-receive latency (p50/p99) with the
// noisy tenant idle, then with it flooding at 10x its messages/s limit; alternated, repeated,
// medians reported. Relay + control plane run in one child process, the flood in another, the
// quiet tenant's publisher and subscriber here. Target: loaded p99 within 1.2x of unloaded.
//
// Short alternating phases spread the machine's own noise over both conditions; the table
// gives the p99 of all samples pooled per condition and the median of per-repeat p99s.
//
//   node --conditions=development --import tsx packages/control/bench/isolation.ts [--repeats 10] [--phase-ms 2000] [--rate 500] [--limit 1000]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { arg, summary } from './stats.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`Usage: npm run bench:isolation -- [--repeats N] [--phase-ms MS] [--rate R] [--limit L] [--pin on|off]

Tenant isolation under load: the quiet tenant's publish-to-receive latency with the noisy
tenant idle, then flooding at 10x its limit. Target: loaded p99 within 1.2x of unloaded.
  --repeats N    alternations (default 10)
  --phase-ms MS  length of each phase (default 2000)
  --rate R       quiet tenant's messages/s (default 500)
  --limit L      noisy tenant's messages/s limit (default 1000)
  --pin on|off   pin the relay to CPU 0 with taskset (default on)
`);
  process.exit(0);
}

const OPERATOR = 'bench-operator-token-0123456789abcdef';
const repeats = Number(arg('repeats', '10'));
const phaseMs = Number(arg('phase-ms', '2000'));
const quietRate = Number(arg('rate', '500'));
const limit = Number(arg('limit', '1000'));
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const nodeArgs = ['--conditions=development', '--import', 'tsx'];
// With taskset and >= 2 CPUs, the relay gets CPU 0 and the load generators (flood, quiet
// clients) the others, as if the clients ran on other machines. --pin off disables it.
const pin = arg('pin', 'on') === 'on' && existsSync('/usr/bin/taskset') && availableParallelism() >= 2;
const clientCpus = `1-${availableParallelism() - 1}`;

function child(script: string, args: string[], cpus?: string): { proc: ChildProcess; lines: AsyncIterator<string> } {
  const cmd = [process.execPath, ...nodeArgs, here(script), ...args];
  const full = pin && cpus !== undefined ? ['/usr/bin/taskset', '-c', cpus, ...cmd] : cmd;
  const proc = spawn(full[0] as string, full.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return { proc, lines };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function token(base: string, tenant: string): Promise<string> {
  const r = (await call(base, 'POST', '/v1/get-token', {
    right: { tenant_grants: [{ tenant_ids: [tenant], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }], expires_at: new Date(Date.now() + 3600_000).toISOString() },
    created_by: 'bench',
  })) as { token: string };
  return r.token;
}

function open(wsUrl: string, tok: string): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl, ['llps.v1', `at.${tok}`], { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function publishFrame(tenant: string, channel: string, payload: Buffer): Buffer {
  const t = Buffer.from(tenant);
  const c = Buffer.from(channel);
  const h = Buffer.alloc(4 + t.length + c.length);
  h.writeUInt16BE(t.length, 0);
  t.copy(h, 2);
  h.writeUInt16BE(c.length, 2 + t.length);
  c.copy(h, 4 + t.length);
  return Buffer.concat([h, payload]);
}

function payloadOf(frame: Buffer): Buffer {
  let o = 1;
  o += 2 + frame.readUInt16BE(o);
  o += 2 + frame.readUInt16BE(o);
  const len = frame.readUInt32BE(o);
  return frame.subarray(o + 4, o + 4 + len);
}

if (pin) spawn('/usr/bin/taskset', ['-pc', clientCpus, String(process.pid)], { stdio: 'ignore' });
const server = child('serve.ts', [OPERATOR], '0');
const urls = JSON.parse((await server.lines.next()).value as string) as { control: string; http: string; ws: string };
try {
  for (const id of ['quiet', 'noisy']) await call(urls.control, 'POST', '/v1/tenants', { id });
  await call(urls.control, 'PUT', '/v1/tenants/noisy/limits', { messagesPerSecond: limit });
  await call(urls.control, 'PUT', '/v1/tenants/quiet/limits', { messagesPerSecond: 100 * quietRate });
  await new Promise((r) => setTimeout(r, 300)); // pushed to the PoP
  const quietTok = await token(urls.http, 'quiet');
  const noisyTok = await token(urls.http, 'noisy');
  const pub = await open(urls.ws, quietTok);
  const sub = await open(urls.ws, quietTok);
  const noisySub = await open(urls.ws, noisyTok);
  sub.send('SUB:quiet:q.#');
  noisySub.send('SUB:noisy:#');
  await new Promise((r) => setTimeout(r, 200));

  let recording: number[] | undefined;
  let received = 0;
  sub.on('message', (d: Buffer, binary: boolean) => {
    if (!binary) return;
    received++;
    const sentAt = payloadOf(d).readDoubleBE(0);
    recording?.push(performance.now() - sentAt);
  });

  const pooled = { unloaded: [] as number[], loaded: [] as number[] };
  async function phase(loaded: boolean): Promise<{ p50: number; p99: number; n: number; refused: number; sent: number }> {
    let flood: ReturnType<typeof child> | undefined;
    if (loaded) {
      flood = child('flood.ts', [urls.ws, noisyTok, 'noisy', String(10 * limit)], clientCpus);
      await flood.lines.next(); // ready
    }
    const samples: number[] = [];
    const t0 = performance.now();
    let n = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - t0;
        if (elapsed > 500 && recording === undefined) recording = samples; // warm-up excluded
        const due = Math.floor((elapsed / 1000) * quietRate);
        for (; n < due; n++) {
          const p = Buffer.alloc(16);
          p.writeDoubleBE(performance.now(), 0);
          pub.send(publishFrame('quiet', 'q.x', p), { binary: true });
        }
        if (elapsed >= phaseMs) {
          clearInterval(timer);
          resolve();
        }
      }, 2);
    });
    await new Promise((r) => setTimeout(r, 200));
    recording = undefined;
    let stats = { sent: 0, refused: 0 };
    if (flood !== undefined) {
      flood.proc.kill('SIGTERM');
      stats = JSON.parse((await flood.lines.next()).value as string) as { sent: number; refused: number };
      await once(flood.proc, 'exit');
    }
    const s = summary(samples);
    pooled[loaded ? 'loaded' : 'unloaded'].push(...samples);
    return { p50: summary(samples).median, p99: s.p99, n: s.n, ...stats };
  }

  const rows: Array<{ unloaded: number; loaded: number; p50u: number; p50l: number; refused: number; sent: number }> = [];
  for (let r = 0; r < repeats; r++) {
    const u = await phase(false);
    const l = await phase(true);
    rows.push({ unloaded: u.p99, loaded: l.p99, p50u: u.p50, p50l: l.p50, refused: l.refused, sent: l.sent });
    process.stdout.write(
      `repeat ${r + 1}: unloaded p50 ${u.p50.toFixed(3)} p99 ${u.p99.toFixed(3)} ms (n=${u.n}); loaded p50 ${l.p50.toFixed(3)} p99 ${l.p99.toFixed(3)} ms (n=${l.n}); flood sent ${l.sent}, refused ${l.refused}\n`,
    );
  }
  const med = (xs: number[]): number => summary(xs).median;
  const pu = med(rows.map((r) => r.unloaded));
  const pl = med(rows.map((r) => r.loaded));
  const U = summary(pooled.unloaded);
  const L = summary(pooled.loaded);
  process.stdout.write(
    `\n| quiet tenant ${quietRate} msg/s | samples | p50 ms | p99 ms (pooled) | p99 ms (median of ${repeats}) |\n|---|---|---|---|---|\n` +
      `| noisy idle | ${U.n} | ${U.median.toFixed(3)} | ${U.p99.toFixed(3)} | ${pu.toFixed(3)} |\n` +
      `| noisy at 10x its ${limit} msg/s limit | ${L.n} | ${L.median.toFixed(3)} | ${L.p99.toFixed(3)} | ${pl.toFixed(3)} |\n` +
      `\nrelay pinned to CPU 0, clients to CPUs ${clientCpus}: ${pin ? 'yes' : 'no'}` +
      `\nloaded/unloaded p99: pooled ${(L.p99 / U.p99).toFixed(2)}x, median of repeats ${(pl / pu).toFixed(2)}x (target <= 1.2x); quiet messages received ${received}\n`,
  );
  pub.close();
  sub.close();
  noisySub.close();
} finally {
  server.proc.kill('SIGTERM');
  await once(server.proc, 'exit');
}
