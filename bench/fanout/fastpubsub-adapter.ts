// FastPubSub side: the relay in its own process (relay-process.ts), driven by a raw `ws` client
// speaking contract v0.1 directly (SUB text command, v1 binary publish, delivery frame decoding),
// so the numbers measure the relay and not an SDK.
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { BrokerAdapter, OnPayload, Publisher, RunningBroker } from './adapter.js';
import { spawnChild } from './processes.js';

export const TENANT = 'bench';
export const CHANNEL = 'bench.x';
const PATTERN = 'bench.#';

export interface RelayOptions {
  /** Per-subscriber outbound queue bound, bytes (relay default when undefined). */
  outboundQueueBytes?: number;
}

/** Where the relay's QUIC edge listens (relays that have one), with what the client needs. */
export interface RelayQuicEdge {
  host: string;
  port: number;
  /** CA of the edge's self-signed certificate. */
  caPem: string;
  /** An access token for tenant `bench` (the same one the WebSocket adapter uses). */
  token: string;
}

export interface RunningRelay extends RunningBroker {
  /** The QUIC edge of the same relay process, or undefined when the relay has none. */
  readonly quic: RelayQuicEdge | undefined;
}

export async function startRelay(opts: RelayOptions = {}): Promise<RunningRelay> {
  const script = fileURLToPath(new URL('./relay-process.ts', import.meta.url));
  const dataDir = mkdtempSync(join(tmpdir(), 'fps-bench-'));
  const masterToken = randomBytes(16).toString('hex');
  const args = [...(process.env.FPS_RELAY_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.FPS_RELAY_PROF] : []), '--conditions=development', '--import', 'tsx', script, '--master-token', masterToken, '--data-dir', dataDir];
  if (opts.outboundQueueBytes !== undefined) args.push('--outbound-queue-bytes', String(opts.outboundQueueBytes));
  const proc = spawnChild(process.execPath, args, 'relay');
  const stop = async (): Promise<void> => {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const m = await proc.waitForLine(/listening on (http:\/\/\S+) \((ws:\/\/\S+)\)/, 30_000);
    const httpUrl = m[1] ?? '';
    const wsUrl = m[2] ?? '';
    const token = await getToken(httpUrl, masterToken);
    const q = /quic edge on (\S+):(\d+), CA (\S+)/.exec(proc.output());
    const quic = q?.[1] !== undefined && q[3] !== undefined ? { host: q[1], port: Number(q[2]), caPem: readFileSync(q[3], 'utf8'), token } : undefined;
    const slowConsumerCount = async (): Promise<number> => {
      const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(3000) });
      const m = /^fastpubsub_dropped_messages_total\{reason="slow_consumer"\} (\S+)$/m.exec(await res.text());
      return m?.[1] !== undefined ? Number(m[1]) : Number.NaN;
    };
    return { name: 'fastpubsub', pid: proc.pid, adapter: fastPubSubAdapter(wsUrl, token), slowConsumerCount, output: proc.output, stop, quic };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** An access token for tenant `bench`, publish and subscribe on `bench.#` (contract §7). */
export async function getToken(httpUrl: string, masterToken: string): Promise<string> {
  const body = {
    right: {
      tenant_grants: [{ tenant_ids: [TENANT], allow_channels_pub: [PATTERN], allow_channels_sub: [PATTERN] }],
      allow_ip_masks: [],
      allow_regions: [],
      allowed_ws_origin: [],
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
    },
    created_by: 'bench:fanout',
    description: 'fan-out benchmark',
  };
  const res = await fetch(`${httpUrl}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`relay: POST /v1/get-token answered ${res.status}: ${text}`);
  const token = (JSON.parse(text) as { token?: unknown }).token;
  if (typeof token !== 'string' || !token.startsWith('AT_')) throw new Error(`relay: get-token returned no token: ${text}`);
  return token;
}

// --- contract v0.1 codec (§3), self-contained ---

/** Publish v1: u16 tenant_len | tenant | u16 channel_len | channel | payload. */
export function encodePublishV1(tenant: string, channel: string, payload: Uint8Array): Buffer {
  const t = Buffer.from(tenant, 'utf8');
  const c = Buffer.from(channel, 'utf8');
  const out = Buffer.allocUnsafe(4 + t.length + c.length + payload.length);
  out.writeUInt16BE(t.length, 0);
  t.copy(out, 2);
  out.writeUInt16BE(c.length, 2 + t.length);
  c.copy(out, 4 + t.length);
  out.set(payload, 4 + t.length + c.length);
  return out;
}

/**
 * Delivery: 0x01 | str16 tenant | str16 channel | u32 payload_len | payload | u16 count | patterns.
 * Returns where the payload starts and its length, or undefined when the frame is malformed
 * (the same checks the SDK makes: tag, truncation, non-empty strings, count > 0, no trailing bytes).
 */
export function decodeDelivery(b: Buffer): { offset: number; length: number } | undefined {
  if (b.length < 1 || b[0] !== 0x01) return undefined;
  let p = 1;
  for (let i = 0; i < 2; i++) {
    if (p + 2 > b.length) return undefined;
    const n = b.readUInt16BE(p);
    if (n === 0 || p + 2 + n > b.length) return undefined;
    p += 2 + n;
  }
  if (p + 4 > b.length) return undefined;
  const length = b.readUInt32BE(p);
  const offset = p + 4;
  p = offset + length;
  if (p + 2 > b.length) return undefined;
  const count = b.readUInt16BE(p);
  if (count === 0) return undefined;
  p += 2;
  for (let i = 0; i < count; i++) {
    if (p + 2 > b.length) return undefined;
    const n = b.readUInt16BE(p);
    if (n === 0 || p + 2 + n > b.length) return undefined;
    p += 2 + n;
  }
  return p === b.length ? { offset, length } : undefined;
}

function fastPubSubAdapter(wsUrl: string, token: string): BrokerAdapter {
  const open = (): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, ['llps.v1', `at.${token}`], { perMessageDeflate: false });
      ws.once('open', () => { ws.off('error', reject); resolve(ws); });
      ws.once('error', reject);
    });
  const closeWs = (ws: WebSocket): Promise<void> =>
    new Promise((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => { ws.terminate(); resolve(); }, 1000);
      ws.once('close', () => { clearTimeout(timer); resolve(); });
      ws.close();
    });
  const subscribe = async (onPayload: OnPayload | undefined): Promise<WebSocket> => {
    const ws = await open();
    ws.on('error', () => undefined); // a stalled socket may be dropped by the relay
    const sub = `SUB:${TENANT}:${PATTERN}`;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('relay: no OK:SUB within 5 s')), 5000);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) {
          if (onPayload === undefined) return;
          const d = decodeDelivery(data);
          if (d !== undefined) onPayload(data, d.offset);
          else malformed++;
          return;
        }
        const text = data.toString('utf8');
        if (text === `OK:${sub}`) { clearTimeout(timer); resolve(); }
        else if (text.startsWith('ERR:')) { clearTimeout(timer); reject(new Error(`relay: ${text} (for ${sub})`)); }
      });
      ws.send(sub);
    });
    return ws;
  };
  let malformed = 0;
  return {
    name: 'fastpubsub',
    async subscriber(onPayload) {
      const ws = await subscribe(onPayload);
      return { close: () => closeWs(ws) };
    },
    async stalledSubscriber() {
      const ws = await subscribe(undefined);
      ws.pause(); // stops reading the TCP socket: kernel buffers fill, then the relay's queue
      return { close: async () => { ws.terminate(); } };
    },
    async publisher(): Promise<Publisher> {
      const ws = await open();
      const pongs: Array<() => void> = [];
      // ws writes each frame as soon as it is sent; corking its socket around a burst gives the
      // relay the same coalesced stream nats.js gives nats-server. (ws keeps the socket private.)
      const socket = (ws as unknown as { _socket?: Socket })._socket;
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) return;
        const text = data.toString('utf8');
        if (text === 'PONG') pongs.shift()?.();
        else if (text.startsWith('ERR:')) process.stderr.write(`bench: relay said ${text} to the publisher\n`);
      });
      return {
        publish: (payload) => ws.send(encodePublishV1(TENANT, CHANNEL, payload), { binary: true }),
        burst: (fn) => {
          socket?.cork();
          try { fn(); } finally { socket?.uncork(); }
        },
        roundTrip: () => new Promise<void>((resolve) => { pongs.push(resolve); ws.send('PING'); }),
        close: async () => {
          if (malformed > 0) process.stderr.write(`bench: ${malformed} malformed delivery frames\n`);
          await closeWs(ws);
        },
      };
    },
  };
}
