// The TypeScript SDK's conformance driver (spec/conformance/driver-protocol.md): JSON-line
// commands on stdin, replies and events on stdout. It uses only the SDK's public API.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import {
  connect,
  createToken,
  isClientError,
  type Client,
  type QuicConnectOptions,
  type Subscription,
  type TokenProvider,
} from '@fastpubsub/client/quic';

type Json = Record<string, unknown>;

interface DriverSub {
  sub: Subscription;
  consuming: boolean;
}

interface DriverClient {
  client: Client;
  subs: Map<string, DriverSub>;
}

class DriverError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const clients = new Map<string, DriverClient>();
const FLUSH_TIMEOUT_MS = 10_000;
const THROUGHPUT_HIGH_WATER_BYTES = 1 << 20;
const THROUGHPUT_WINDOW = 2000;

function write(obj: Json): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function errorJson(err: unknown): Json {
  if (isClientError(err)) return { code: err.code, serverCode: err.serverCode ?? null, message: err.message };
  if (err instanceof DriverError) return { code: err.code, serverCode: null, message: err.message };
  return { code: 'bad_argument', serverCode: null, message: err instanceof Error ? err.message : String(err) };
}

const str = (cmd: Json, key: string): string => {
  const v = cmd[key];
  if (typeof v !== 'string') throw new DriverError('bad_argument', `"${key}" must be a string`);
  return v;
};
const num = (cmd: Json, key: string): number => {
  const v = cmd[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DriverError('bad_argument', `"${key}" must be a number`);
  return v;
};
const clientName = (cmd: Json): string => (typeof cmd['client'] === 'string' ? cmd['client'] : 'default');

function getClient(cmd: Json): DriverClient {
  const name = clientName(cmd);
  const c = clients.get(name);
  if (c === undefined) throw new DriverError('bad_argument', `no client named ${name}`);
  return c;
}

function getSub(cmd: Json): DriverSub {
  const c = getClient(cmd);
  const s = c.subs.get(str(cmd, 'sub'));
  if (s === undefined) throw new DriverError('bad_argument', `no subscription named ${str(cmd, 'sub')}`);
  return s;
}

function consume(name: string, subName: string, s: DriverSub): void {
  if (s.consuming) return;
  s.consuming = true;
  void (async () => {
    try {
      for await (const m of s.sub) {
        write({
          event: 'message',
          client: name,
          sub: subName,
          tenant: m.tenant,
          channel: m.channel,
          payload: Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength).toString('base64'),
          patterns: [m.pattern],
        });
      }
    } catch (err) {
      write({ event: 'error', client: name, error: errorJson(err) });
    }
  })();
}

function tokenProvider(name: string, spec: Json): TokenProvider {
  const grant = { tenant_ids: [str(spec, 'tenant')], allow_channels_pub: spec['pub'] as string[], allow_channels_sub: spec['sub'] as string[] };
  const ttlMs = num(spec, 'ttlSeconds') * 1000;
  return async ({ signal }) => {
    write({ event: 'token_provided', client: name });
    const expiresAt = Date.now() + ttlMs;
    const token = await createToken({ grants: [grant], expiresAt, createdBy: 'conformance-driver' }, { url: str(spec, 'url'), masterToken: str(spec, 'masterToken'), signal });
    return { token, expiresAt };
  };
}

async function doConnect(cmd: Json): Promise<Json> {
  const name = clientName(cmd);
  const existing = clients.get(name);
  if (existing !== undefined && existing.client.state !== 'closed') throw new DriverError('bad_argument', `client ${name} is already connected`);
  const options: QuicConnectOptions = {};
  if (typeof cmd['endpoint'] === 'string') options.endpoint = cmd['endpoint'];
  else if (Array.isArray(cmd['edges'])) options.bootstrap = cmd['edges'] as string[];
  if (typeof cmd['token'] === 'string') options.token = cmd['token'];
  if (typeof cmd['tokenProvider'] === 'object' && cmd['tokenProvider'] !== null) options.tokenProvider = tokenProvider(name, cmd['tokenProvider'] as Json);
  const transport = cmd['transport'] ?? 'websocket';
  if (transport === 'quic') {
    const q = (cmd['quic'] ?? {}) as Json;
    options.transport = 'quic';
    options.quic = {
      ...(typeof q['address'] === 'string' ? { port: Number(q['address'].slice(q['address'].lastIndexOf(':') + 1)) } : {}),
      ...(typeof q['caFile'] === 'string' ? { caPem: await readFile(q['caFile'], 'utf8') } : {}),
      ...(typeof q['serverName'] === 'string' ? { serverName: q['serverName'] } : {}),
    };
  } else if (transport === 'websocket') {
    options.transport = 'ws';
  } else {
    throw new DriverError('bad_argument', `unknown transport ${JSON.stringify(transport)}`);
  }
  const r = cmd['reconnect'] as Json | undefined;
  if (r !== undefined) options.reconnect = { ...(r['baseDelayMs'] === undefined ? {} : { baseDelayMs: num(r, 'baseDelayMs') }), ...(r['maxDelayMs'] === undefined ? {} : { maxDelayMs: num(r, 'maxDelayMs') }) };
  const q = cmd['publishQueue'] as Json | undefined;
  if (q?.['maxMessages'] !== undefined) options.publishQueue = { maxMessages: num(q, 'maxMessages') };
  const p = cmd['ping'] as Json | undefined;
  if (p !== undefined) options.ping = { ...(p['intervalMs'] === undefined ? {} : { intervalMs: num(p, 'intervalMs') }), ...(p['timeoutMs'] === undefined ? {} : { timeoutMs: num(p, 'timeoutMs') }) };
  const b = cmd['subscriptionBuffer'] as Json | undefined;
  if (b?.['size'] !== undefined) options.subscriptionBuffer = { size: num(b, 'size') };
  const client = await connect(options);
  clients.set(name, { client, subs: new Map() });
  write({ event: 'state', client: name, state: 'connected' }); // the first one happened inside connect()
  client.on('state', (e) => write({ event: 'state', client: name, state: e.state }));
  client.on('error', (e) => write({ event: 'error', client: name, error: errorJson(e) }));
  // A closed client stays in the table, so later commands get the SDK's own `closed` error.
  client.on('closed', (e) => {
    write({ event: 'closed', client: name, error: e.error === undefined ? null : errorJson(e.error) });
  });
  return { edge: client.edge?.httpUrl ?? null };
}

async function doThroughput(cmd: Json): Promise<Json> {
  const { client } = getClient(cmd);
  const tenant = str(cmd, 'tenant');
  const channel = str(cmd, 'channel');
  const count = num(cmd, 'count');
  const payload = new Uint8Array(num(cmd, 'size')).fill(0x61);
  const timeoutMs = typeof cmd['timeoutMs'] === 'number' ? cmd['timeoutMs'] : 60_000;
  const window = typeof cmd['window'] === 'number' && cmd['window'] > 0 ? cmd['window'] : THROUGHPUT_WINDOW;
  let received = 0;
  let allIn: () => void = () => {};
  let windowOpen: (() => void) | undefined;
  let published = 0;
  const done = new Promise<void>((resolve) => (allIn = resolve));
  const sub = await client.subscribe(tenant, channel, {
    onMessage: () => {
      if (++received === count) allIn();
      if (windowOpen !== undefined && published - received < window / 2) {
        windowOpen();
        windowOpen = undefined;
      }
    },
  });
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  try {
    while (published < count && Date.now() < deadline) {
      // At most `window` messages in flight (published, not yet back), and the transport's own
      // buffer below its high-water mark: the relay never has to drop for a slow consumer.
      if (published - received >= window) {
        await Promise.race([new Promise<void>((r) => (windowOpen = r)), new Promise((r) => setTimeout(r, 100))]);
        continue;
      }
      if (client.bufferedAmount > THROUGHPUT_HIGH_WATER_BYTES) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      client.publish(tenant, channel, payload);
      if (++published % 256 === 0) await new Promise((r) => setImmediate(r));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
    const seconds = (performance.now() - started) / 1000;
    return { received, seconds, messagesPerSecond: received / seconds };
  } finally {
    await sub.unsubscribe();
  }
}

async function handle(cmd: Json): Promise<Json> {
  switch (cmd['op']) {
    case 'connect':
      return doConnect(cmd);
    case 'subscribe': {
      const c = getClient(cmd);
      const subName = str(cmd, 'sub');
      const sub = await c.client.subscribe(str(cmd, 'tenant'), str(cmd, 'pattern'), typeof cmd['bufferSize'] === 'number' ? { bufferSize: cmd['bufferSize'] } : {});
      const s: DriverSub = { sub, consuming: false };
      c.subs.set(subName, s);
      if (cmd['paused'] !== true) consume(clientName(cmd), subName, s);
      return {};
    }
    case 'unsubscribe': {
      const s = getSub(cmd);
      await s.sub.unsubscribe();
      getClient(cmd).subs.delete(str(cmd, 'sub'));
      return {};
    }
    case 'resume':
      consume(clientName(cmd), str(cmd, 'sub'), getSub(cmd));
      return {};
    case 'publish': {
      const { client } = getClient(cmd);
      const delivery = cmd['delivery'];
      client.publish(str(cmd, 'tenant'), str(cmd, 'channel'), Buffer.from(str(cmd, 'payload'), 'base64'), delivery === undefined ? undefined : { delivery: delivery as 'broadcast' });
      return {};
    }
    case 'flush':
      await getClient(cmd).client.flush({ signal: AbortSignal.timeout(FLUSH_TIMEOUT_MS) });
      return {};
    case 'stats': {
      if (typeof cmd['sub'] === 'string') {
        const { sub } = getSub(cmd);
        return { received: sub.stats.received, dropped: sub.stats.dropped };
      }
      const s = getClient(cmd).client.stats;
      return { published: s.published, queued: s.queued, queueDropped: s.queueDropped, reconnects: s.reconnects };
    }
    case 'ping':
      return { rttMs: getClient(cmd).client.rttMs ?? null };
    case 'close': {
      const c = clients.get(clientName(cmd));
      if (c !== undefined) await c.client.close();
      return {};
    }
    case 'throughput':
      return doThroughput(cmd);
    default:
      throw new DriverError('bad_argument', `unknown op ${JSON.stringify(cmd['op'])}`);
  }
}

async function exit(id: unknown): Promise<void> {
  await Promise.allSettled([...clients.values()].map((c) => c.client.close()));
  if (id !== undefined) write({ id, ok: true });
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  let cmd: Json;
  try {
    cmd = JSON.parse(line) as Json;
  } catch {
    process.stderr.write(`driver: not JSON: ${line.slice(0, 200)}\n`);
    return;
  }
  const id = cmd['id'];
  if (cmd['op'] === 'exit') return void exit(id);
  handle(cmd).then(
    (result) => write({ id, ok: true, ...result }),
    (err: unknown) => write({ id, ok: false, error: errorJson(err) }),
  );
});
lines.on('close', () => void exit(undefined));
write({ event: 'ready', sdk: 'ts', transports: ['websocket', 'quic'] });
