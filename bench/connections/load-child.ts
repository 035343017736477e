// One load-generator process of `npm run bench:connections`: opens --count idle connections from
// one loopback source address (one address has ~28,000 ephemeral ports, one process may hold
// 20,000 descriptors here), each with one subscription, and holds them until its parent closes
// stdin. Prints `progress N` while opening and `ready N MS RETRIES` (or `failed ...`) when done.
//   --kind ws    a relay's WebSocket edge: upgrade with the token, SUB:tenant:channel, wait for OK:SUB
//   --kind nats  nats-server: CONNECT, SUB, PING, wait for PONG (a plain socket, like a tiny client)
//   --kind quic  a relay's QUIC edge (--url HOST:PORT, --ca FILE): AUTH, wait for OK, SUB, wait for
//                the subscription's stream; every connection of this process shares one endpoint
//                (one UDP socket), so descriptors do not bound the count here
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { QuicEndpoint, LOW_LATENCY_TRANSPORT } from '@fastpubsub/quic';
import { ALPN, FrameDecoder, FrameType, encodeAuth, encodeSub } from '@fastpubsub/wire';

const { values } = parseArgs({
  options: {
    kind: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' }, count: { type: 'string' },
    source: { type: 'string' }, prefix: { type: 'string' }, concurrency: { type: 'string' }, 'timeout-ms': { type: 'string' }, ca: { type: 'string' },
  },
  strict: true,
});
const kind = values.kind;
const url = values.url ?? '';
const count = Number(values.count ?? '0');
const source = values.source ?? '127.0.0.1';
const prefix = values.prefix ?? 'idle';
const concurrency = Number(values.concurrency ?? '128');
const timeoutMs = Number(values['timeout-ms'] ?? '120000');
if ((kind !== 'ws' && kind !== 'nats' && kind !== 'quic') || url === '' || !(count > 0) || (kind === 'quic' && values.ca === undefined)) {
  process.stderr.write('usage: load-child.ts --kind ws|nats|quic --url U --count N [--token T] [--ca FILE] [--source 127.0.0.X] [--prefix P]\n');
  process.exit(2);
}

const held: Array<{ destroy(): void }> = [];
const OPEN_TIMEOUT_MS = 30_000;

function openWs(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['llps.v1', `at.${values.token ?? ''}`], { perMessageDeflate: false, localAddress: source, handshakeTimeout: OPEN_TIMEOUT_MS });
    const sub = `SUB:bench:${prefix}.${i}`;
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('no OK:SUB')); }, OPEN_TIMEOUT_MS);
    ws.on('error', (err) => { clearTimeout(timer); reject(err); });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => reject(new Error(`HTTP ${res.statusCode} ${body}`)));
    });
    ws.once('open', () => ws.send(sub));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const text = data.toString('utf8');
      if (text === `OK:${sub}`) {
        clearTimeout(timer);
        held.push({ destroy: () => ws.terminate() });
        resolve();
      } else if (text.startsWith('ERR:')) {
        clearTimeout(timer);
        ws.terminate();
        reject(new Error(text));
      }
    });
  });
}

function openNats(i: number): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock: Socket = tcpConnect({ host: u.hostname, port: Number(u.port), localAddress: source });
    let seen = '';
    let sent = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no PONG')); }, OPEN_TIMEOUT_MS);
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    const onData = (d: Buffer): void => {
      seen += d.toString('latin1');
      if (!sent && seen.includes('INFO ')) {
        sent = true;
        sock.write(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${prefix}.${i} 1\r\nPING\r\n`);
      }
      if (seen.includes('PONG\r\n')) {
        clearTimeout(timer);
        sock.off('data', onData);
        // Idle from here on: answer the server's keepalive PINGs, nothing else.
        sock.on('data', (b: Buffer) => { if (b.includes('PING\r\n')) sock.write('PONG\r\n'); });
        held.push(sock);
        resolve();
      }
    };
    sock.on('data', onData);
  });
}

let endpoint: QuicEndpoint | undefined;

async function openQuic(i: number): Promise<void> {
  const [host = '', port = ''] = url.split(/:(?=\d+$)/);
  endpoint ??= new QuicEndpoint({ host: source, closeTimeoutMs: 500, transport: LOW_LATENCY_TRANSPORT });
  const conn = await endpoint.connect({ host, port: Number(port), alpn: [ALPN], serverName: host, caPem: readFileSync(values.ca ?? '', 'utf8'), signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) });
  const control = conn.openBidiStream();
  const decoder = new FrameDecoder();
  let subscribed = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no OK for AUTH/SUB')), OPEN_TIMEOUT_MS);
      conn.on('close', (info) => { clearTimeout(timer); reject(new Error(`closed: ${info.reason ?? info.how}`)); });
      // The subscription's stream starts with OK: the relay has the subscription.
      conn.on('stream', (st) => { st.on('data', () => undefined); clearTimeout(timer); resolve(); });
      control.on('data', (chunk: Uint8Array) => {
        for (const f of decoder.push(chunk)) {
          if (f.type === FrameType.OK && f.topic === '' && !subscribed) {
            subscribed = true;
            control.write(encodeSub({ id: 1, flags: 0, tenant: 'bench', pattern: `${prefix}.${i}` }));
          } else if (f.type === FrameType.ERR) {
            clearTimeout(timer);
            reject(new Error(`ERR ${new TextDecoder().decode(f.payload)}`));
          }
        }
      });
      control.write(encodeAuth({ token: values.token ?? '' }));
    });
  } catch (err) {
    conn.close(0, 'bench');
    throw err;
  }
  held.push({ destroy: () => conn.close(0, 'bench done') });
}

const open = kind === 'ws' ? openWs : kind === 'nats' ? openNats : openQuic;
const started = performance.now();
const deadline = started + timeoutMs;
let next = 0;
let done = 0;
let firstError: string | undefined;
let failures = 0;
let lastReport = 0;

/** Attempts per connection: a relay under load may cut a slow handshake (pre-auth bounds); that is retried, and counted. */
const ATTEMPTS = 3;
let retries = 0;

async function worker(): Promise<void> {
  while (next < count && firstError === undefined && performance.now() < deadline) {
    const i = next++;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        await open(i);
        done++;
        break;
      } catch (err) {
        if (attempt < ATTEMPTS) {
          retries++;
          continue;
        }
        failures++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
    if (done - lastReport >= 1000) {
      lastReport = done;
      process.stdout.write(`progress ${done}\n`);
    }
  }
}

await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
const ms = Math.round(performance.now() - started);
if (done === count) process.stdout.write(`ready ${done} ${ms} ${retries}\n`);
else process.stdout.write(`failed ${done} ${ms} ${failures} ${firstError ?? 'timed out'}\n`);

const shutdown = (): void => {
  for (const c of held) c.destroy();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();
