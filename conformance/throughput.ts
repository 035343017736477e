// The throughput line: one client of the SDK publishes `count` 256-byte messages to itself
// through the standalone relay and counts them back (driver op `throughput`), after a short
// warm-up round; nothing may be lost.
import type { DriverProcess } from './driver-process.js';
import type { Environment } from './environment.js';
import type { Variant } from './execute.js';

const SIZE = 256;
const TENANT = 'throughput';
const WARMUP = 5000;
/** Messages in flight (published, not yet received) at most: well inside the relay's per-subscriber queue. */
const WINDOW = 2000;

export async function measureThroughput(
  driver: DriverProcess,
  env: Environment,
  transport: Variant['transport'],
  count: number,
  runIndex: number,
): Promise<{ messagesPerSecond: number; received: number; seconds: number }> {
  const relay = await env.relay('standalone');
  const client = `s${runIndex}.throughput`;
  const token = await env.mintToken(relay, { tenant: TENANT, pub: ['#'], sub: ['#'] });
  const connect: Record<string, unknown> = { op: 'connect', client, endpoint: relay.httpUrl, token };
  if (transport === 'quic') {
    connect['transport'] = 'quic';
    connect['quic'] = { address: relay.quicAddress, caFile: env.caFile, serverName: env.serverName };
  }
  const c = await driver.request(connect, 15_000);
  if (!c.ok) throw new Error(`connect failed: ${JSON.stringify(c.error)}`);
  const timeoutMs = 60_000;
  try {
    // A short unreported round first: JIT warm-up (V8, the JVM, the relay) is not throughput.
    const warm = await driver.request({ op: 'throughput', client, tenant: TENANT, channel: `tp.warm${runIndex}`, count: Math.min(WARMUP, count), size: SIZE, window: WINDOW, timeoutMs }, timeoutMs + 5000);
    if (!warm.ok) throw new Error(`throughput (warm-up) failed: ${JSON.stringify(warm.error)}`);
    const r = await driver.request({ op: 'throughput', client, tenant: TENANT, channel: `tp.run${runIndex}`, count, size: SIZE, window: WINDOW, timeoutMs }, timeoutMs + 5000);
    if (!r.ok) throw new Error(`throughput failed: ${JSON.stringify(r.error)}`);
    const received = Number(r['received']);
    const seconds = Number(r['seconds']);
    const messagesPerSecond = Number(r['messagesPerSecond']);
    if (received !== count) throw new Error(`lost messages: received ${received} of ${count}`);
    if (!(seconds > 0) || !(messagesPerSecond > 0)) throw new Error(`implausible reply ${JSON.stringify(r)}`);
    return { messagesPerSecond, received, seconds };
  } finally {
    await driver.request({ op: 'close', client }, 5000).catch(() => undefined);
  }
}
