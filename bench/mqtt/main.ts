// `npm run bench:mqtt`: an MQTT publisher (mqtt.js, QoS 0) → a WebSocket subscriber through a
// FastPubSub relay's MQTT listener, next to the same MQTT publisher → an MQTT subscriber
// through mosquitto (the broker) in the same run. Latency at a fixed rate (p50 / p99) and
// throughput with a bounded window. Relay and mosquitto each run in their own process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { decodeDelivery } from '@fastpubsub/wire';
import { LatencyHistogram } from '../fanout/histogram.js';
import { freePort, spawnChild, type Spawned } from '../fanout/processes.js';

const HELP = `Usage: npm run bench:mqtt -- [options]
  --rate N      publishes per second of the latency rows (default 2000)
  --count N     messages per row (default 6000)
  --window N    throughput rows: messages ahead of the subscriber (default 500)
  --size B      payload bytes, >= 16 (default 64)
  -h, --help
`;

const { values } = parseArgs({
  options: { rate: { type: 'string' }, count: { type: 'string' }, window: { type: 'string' }, size: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  strict: true,
});
if (values.help === true) {
  process.stdout.write(HELP);
  process.exit(0);
}
const RATE = Number(values.rate ?? 2000);
const COUNT = Number(values.count ?? 6000);
const WINDOW = Number(values.window ?? 500);
const SIZE = Math.max(16, Number(values.size ?? 64));
const TIMEOUT_MS = 60_000;
const MASTER = 'bench-master-token-0123456789abcdef';
const TENANT = 'bench';

/** A receiver reports each message's payload; the first 8 bytes are the send time (ns), 8..12 the sequence. */
type OnPayload = (payload: Buffer) => void;

interface Path {
  name: string;
  publisher: MqttClient;
  /** Starts delivering payloads to `on`. */
  subscribe(on: OnPayload): Promise<void>;
  close(): Promise<void>;
}

function connectMqtt(port: number, username?: string, password?: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...(username === undefined ? {} : { username, password }) });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

async function relayPath(subscriber: 'ws' | 'mqtt'): Promise<{ path: Path; proc: Spawned; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fps-bench-mqtt-'));
  const http = await freePort();
  const mqttPort = await freePort();
  const main = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
  const entry = `import { main } from ${JSON.stringify(main)}; main(process.argv.slice(1)).then((c) => { process.exitCode = c; });`;
  const proc = spawnChild(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '--eval', entry, 'relay', '--listen', `127.0.0.1:${http}`, '--mqtt-listen', `127.0.0.1:${mqttPort}`, '--master-token', MASTER, '--data-dir', dir, '--log-level', 'warn'], 'relay');
  await proc.waitForLine(/listening on/, 20_000);
  const res = await fetch(`http://127.0.0.1:${http}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ right: { tenant_grants: [{ tenant_ids: [TENANT], allow_channels_pub: ['bench.#'], allow_channels_sub: ['bench.#'] }], allow_ip_masks: [], allow_regions: [], allowed_ws_origin: [], expires_at: new Date(Date.now() + 3600_000).toISOString() }, created_by: 'bench:mqtt' }),
  });
  const token = ((await res.json()) as { token: string }).token;
  const publisher = await connectMqtt(mqttPort, TENANT, token);
  if (subscriber === 'mqtt') {
    const sub = await connectMqtt(mqttPort, TENANT, token);
    const path: Path = {
      name: 'FastPubSub relay: MQTT pub → MQTT sub',
      publisher,
      async subscribe(on) {
        sub.on('message', (_t, payload) => on(payload));
        await sub.subscribeAsync('bench/#', { qos: 0 });
      },
      async close() {
        await Promise.all([publisher.endAsync(true), sub.endAsync(true)]);
      },
    };
    return { path, proc, dir };
  }
  let ws: WebSocket | undefined;
  const path: Path = {
    name: 'FastPubSub relay: MQTT pub → WebSocket sub',
    publisher,
    async subscribe(on) {
      const sock = new WebSocket(`ws://127.0.0.1:${http}/ws`, ['llps.v1', `at.${token}`], { perMessageDeflate: false });
      ws = sock;
      await new Promise<void>((resolve, reject) => {
        sock.once('open', () => resolve());
        sock.once('error', reject);
      });
      const ok = new Promise<void>((resolve) => {
        sock.on('message', (data: Buffer, binary: boolean) => {
          if (!binary) {
            if (data.toString().startsWith('OK:SUB')) resolve();
            return;
          }
          on(Buffer.from(decodeDelivery(data).payload));
        });
      });
      sock.send(`SUB:${TENANT}:bench.#`);
      await ok;
    },
    async close() {
      ws?.terminate();
      await publisher.endAsync(true);
    },
  };
  return { path, proc, dir };
}

async function mosquittoPath(): Promise<{ path: Path; proc: Spawned }> {
  const port = await freePort();
  const proc = spawnChild('mosquitto', ['-p', String(port)], 'mosquitto');
  await proc.waitForLine(/running|listen socket/i, 10_000);
  const publisher = await connectMqtt(port);
  const subscriber = await connectMqtt(port);
  const path: Path = {
    name: 'mosquitto broker: MQTT pub → MQTT sub',
    publisher,
    async subscribe(on) {
      subscriber.on('message', (_t, payload) => on(payload));
      await subscriber.subscribeAsync('bench/#', { qos: 0 });
    },
    async close() {
      await Promise.all([publisher.endAsync(true), subscriber.endAsync(true)]);
    },
  };
  return { path, proc };
}

function payload(seq: number): Buffer {
  const b = Buffer.alloc(SIZE, 0x61);
  b.writeBigUInt64BE(process.hrtime.bigint(), 0);
  b.writeUInt32BE(seq, 8);
  return b;
}

interface Row {
  name: string;
  p50us: number;
  p99us: number;
  received: number;
  throughput: number;
}

async function measure(path: Path): Promise<Row> {
  let phase: 'latency' | 'throughput' = 'latency';
  const hist = new LatencyHistogram();
  let received = 0;
  let thrReceived = 0;
  let wake: (() => void) | undefined;
  await path.subscribe((p) => {
    if (phase === 'latency') {
      hist.record(Number(process.hrtime.bigint() - p.readBigUInt64BE(0)));
      received++;
    } else thrReceived++;
    wake?.();
  });
  // Latency: a fixed rate, in ticks of 10 ms.
  const start = Date.now();
  const perTick = Math.max(1, Math.round(RATE / 100));
  for (let sent = 0; sent < COUNT && Date.now() - start < TIMEOUT_MS; ) {
    for (let i = 0; i < perTick && sent < COUNT; i++) path.publisher.publish('bench/lat', payload(sent++), { qos: 0 });
    await new Promise((r) => setTimeout(r, 10));
  }
  const drainEnd = Date.now() + 3000;
  while (received < COUNT && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 20));
  // Throughput: as fast as the window allows.
  phase = 'throughput';
  const t0 = process.hrtime.bigint();
  const end = Date.now() + TIMEOUT_MS;
  for (let sent = 0; sent < COUNT && Date.now() < end; ) {
    while (sent - thrReceived < WINDOW && sent < COUNT) path.publisher.publish('bench/thr', payload(sent++), { qos: 0 });
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 50);
    });
  }
  while (thrReceived < COUNT && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { name: path.name, p50us: hist.quantile(0.5) / 1000, p99us: hist.quantile(0.99) / 1000, received, throughput: thrReceived / seconds };
}

const rows: Row[] = [];
const mosq = await mosquittoPath();
try {
  rows.push(await measure(mosq.path));
} finally {
  await mosq.path.close();
  await mosq.proc.stop();
}
for (const subscriber of ['ws', 'mqtt'] as const) {
  const relay = await relayPath(subscriber);
  try {
    rows.push(await measure(relay.path));
  } finally {
    await relay.path.close();
    await relay.proc.stop();
    rmSync(relay.dir, { recursive: true, force: true });
  }
}

const lines = [
  `bench:mqtt — ${COUNT} messages of ${SIZE} B per row, QoS 0; latency at ${RATE} msg/s; throughput with a ${WINDOW}-message window`,
  '',
  '| path | p50 µs | p99 µs | delivered (latency row) | throughput msg/s |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${r.p50us.toFixed(0)} | ${r.p99us.toFixed(0)} | ${r.received}/${COUNT} | ${r.throughput.toFixed(0)} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(0);
