// The attack suite's parts: the relay in a child process (CPU and RSS from /proc), tokens, and
// the healthy client that must keep being served during every attack: a WebSocket subscriber
// and publisher of their own tenant from 127.0.0.1 (attackers use other loopback addresses),
// measuring publish→delivery latency, delivery ratio and /ping latency.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { cpuSeconds, rssBytes } from '../fanout/procstat.js';

export const MASTER_TOKEN = `attack-suite-master-${'0123456789abcdef'.repeat(2)}`;

export interface RelayProcess {
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly quicPort: number | null;
  readonly quicCaPem: string | null;
  readonly pid: number;
  readonly dataDir: string;
  rssMb(): number;
  cpuSeconds(): number;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export async function startRelayProcess(extra: Record<string, unknown> = {}): Promise<RelayProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fps-attack-'));
  const config = { listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER_TOKEN, dataDir, logLevel: 'error', ...extra };
  const script = fileURLToPath(new URL('./relay-child.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', script, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('relay did not start within 30 s')), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.once('exit', (code) => reject(new Error(`relay exited ${String(code)}`)));
  });
  const info = JSON.parse(line) as Omit<RelayProcess, 'pid' | 'dataDir' | 'rssMb' | 'cpuSeconds' | 'metrics' | 'stop'>;
  const pid = child.pid as number;
  return {
    ...info,
    pid,
    dataDir,
    rssMb: () => rssBytes(pid) / (1024 * 1024),
    cpuSeconds: () => cpuSeconds(pid),
    metrics: async () => (await fetch(`${info.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text(),
    stop: async () => {
      const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      child.stdin?.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function issueToken(httpUrl: string, tenant: string, rules: string[] = ['#']): Promise<string> {
  const res = await fetch(`${httpUrl}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      right: {
        tenant_grants: [{ tenant_ids: [tenant], allow_channels_pub: rules, allow_channels_sub: rules }],
        allow_ip_masks: [],
        allow_regions: [],
        allowed_ws_origin: [],
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      },
      created_by: 'attack-suite',
      description: 'bench/attack',
    }),
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 200) throw new Error(`get-token: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Opens a contract WebSocket; resolves with it open, or rejects with the refusal status. */
export function openWs(wsUrl: string, token: string, localAddress = '127.0.0.1'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, ['llps.v1', `at.${token}`], { localAddress, handshakeTimeout: 5000 });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      reject(new Error(`HTTP ${res.statusCode ?? 0}`));
    });
    ws.once('error', reject);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function v1Publish(tenant: string, channel: string, payload: Buffer): Buffer {
  const t = Buffer.from(tenant);
  const c = Buffer.from(channel);
  const out = Buffer.alloc(4 + t.length + c.length + payload.length);
  out.writeUInt16BE(t.length, 0);
  t.copy(out, 2);
  out.writeUInt16BE(c.length, 2 + t.length);
  c.copy(out, 4 + t.length);
  payload.copy(out, 4 + t.length + c.length);
  return out;
}
export { v1Publish };

export interface HealthyReport {
  sent: number;
  delivered: number;
  p99Ms: number;
  pingP99Ms: number;
  pingFailures: number;
}

function p99(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))] ?? Number.NaN;
}

/** A healthy tenant publishing to itself every `periodMs` and probing /ping, until stop(). */
export class HealthyClient {
  readonly #latencies: number[] = [];
  readonly #pings: number[] = [];
  #pingFailures = 0;
  #sent = 0;
  #timer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #sub!: WebSocket;
  #pub!: WebSocket;

  static async start(relay: RelayProcess, periodMs = 50): Promise<HealthyClient> {
    const h = new HealthyClient();
    const token = await issueToken(relay.httpUrl, 'healthy');
    h.#sub = await openWs(relay.wsUrl, token);
    h.#pub = await openWs(relay.wsUrl, token);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no OK:SUB')), 5000);
      h.#sub.once('message', () => {
        clearTimeout(t);
        resolve();
      });
      h.#sub.send('SUB:healthy:probe');
    });
    h.#sub.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      // Delivery: 0x01 | u16 tenant | u16 channel | u32 payload length | payload …; the payload is the send time.
      const tl = data.readUInt16BE(1);
      const cl = data.readUInt16BE(3 + tl);
      const off = 5 + tl + cl + 4;
      const sentAt = Number(data.subarray(off, off + 20).toString('utf8'));
      if (Number.isFinite(sentAt)) h.#latencies.push(performance.now() - sentAt);
    });
    h.#timer = setInterval(() => {
      if (h.#pub.readyState !== WebSocket.OPEN) return;
      h.#sent++;
      h.#pub.send(v1Publish('healthy', 'probe', Buffer.from(performance.now().toFixed(3).padEnd(20, ' '))));
    }, periodMs);
    h.#pingTimer = setInterval(() => {
      const t0 = performance.now();
      fetch(`${relay.httpUrl}/ping`, { signal: AbortSignal.timeout(3000) }).then(
        (r) => (r.status === 200 ? h.#pings.push(performance.now() - t0) : h.#pingFailures++),
        () => h.#pingFailures++,
      );
    }, 250);
    return h;
  }

  async stop(): Promise<HealthyReport> {
    clearInterval(this.#timer);
    clearInterval(this.#pingTimer);
    await sleep(300); // the last deliveries and pings
    this.#sub.terminate();
    this.#pub.terminate();
    return { sent: this.#sent, delivered: this.#latencies.length, p99Ms: p99(this.#latencies), pingP99Ms: p99(this.#pings), pingFailures: this.#pingFailures };
  }
}
