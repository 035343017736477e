// QUIC binding throughput on loopback, client and server in this process.
//   node --conditions=development --import tsx packages/quic/bench/throughput.ts [seconds]
// Rows: 256-byte one-way messages over one connection (one stream) with batched writes
// (writev of 256 messages), the same with one write() per message, and one stream with
// 64 KiB writes. Writers honour write() === false / 'drain'. Rates are measured at the
// receiver, from the first write to the last byte.
import { QuicEndpoint, generateTestPki, type QuicConnection, type QuicStream } from '../src/index.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`Usage: npm run bench:quic -- [SECONDS]

QUIC binding throughput on loopback, client and server in one process: 256-byte messages
(batched and one write per message) and 64 KiB writes over one stream, SECONDS each (default 3).
`);
  process.exit(0);
}
const seconds = Number(process.argv[2] ?? 3);
if (!(seconds > 0)) {
  process.stderr.write(`bench:quic: SECONDS must be a positive number, got '${process.argv[2] ?? ''}'\n`);
  process.exit(2);
}
const pki = generateTestPki();
const server = new QuicEndpoint({ host: '127.0.0.1', server: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, alpn: ['bench'] } });
const client = new QuicEndpoint({ host: '127.0.0.1' });

interface Row {
  name: string;
  msgs: number;
  bytes: number;
  ms: number;
}

async function connect(): Promise<[QuicConnection, QuicConnection]> {
  const accepted = new Promise<QuicConnection>((r) => server.once('connection', r));
  const c = await client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpn: ['bench'], caPem: pki.caCertPem });
  return [c, await accepted];
}

/** Sends for `seconds` with `step()` writing one batch and returning write()'s answer. */
async function run(name: string, msgSize: number, step: (st: QuicStream) => { ok: boolean; msgs: number }): Promise<Row> {
  const [c, s] = await connect();
  const received = new Promise<{ bytes: number; end: number }>((resolve) => {
    s.once('stream', (st) => {
      let bytes = 0;
      st.on('data', (d: Buffer) => (bytes += d.length));
      st.on('end', () => resolve({ bytes, end: performance.now() }));
    });
  });
  const st = c.openUniStream();
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const go = (): void => {
      for (;;) {
        if (performance.now() >= stopAt) {
          st.end();
          resolve();
          return;
        }
        // Write for a while, then yield so the event loop can deliver receive batches.
        for (let i = 0; i < 64; i++) {
          const r = step(st);
          sent += r.msgs;
          if (!r.ok) {
            st.once('drain', go);
            return;
          }
        }
        setImmediate(go);
        return;
      }
    };
    go();
  });
  const r = await received;
  if (r.bytes !== sent * msgSize) throw new Error(`${name}: sent ${sent * msgSize} bytes, received ${r.bytes}`);
  c.close(0, 'done');
  await c.closed;
  return { name, msgs: sent, bytes: r.bytes, ms: r.end - t0 };
}

const msg256 = Buffer.alloc(256, 7);
const batch = Array.from({ length: 256 }, () => msg256);
const chunk64k = Buffer.alloc(64 * 1024, 9);

const rows: Row[] = [];
rows.push(await run('256 B msgs, writev x256', 256, (st) => ({ ok: st.writev(batch), msgs: batch.length })));
rows.push(await run('256 B msgs, write() each', 256, (st) => ({ ok: st.write(msg256), msgs: 1 })));
rows.push(await run('64 KiB writes, one stream', 64 * 1024, (st) => ({ ok: st.write(chunk64k), msgs: 1 })));

const pad = (v: string, n: number): string => v.padStart(n);
console.log(`QUIC binding throughput, loopback, ${seconds} s per row, node ${process.version}`);
console.log(`${'case'.padEnd(28)}${pad('msgs', 12)}${pad('msg/s', 12)}${pad('MB/s', 10)}${pad('ms', 8)}`);
for (const r of rows) {
  const s = r.ms / 1000;
  console.log(
    `${r.name.padEnd(28)}${pad(String(r.msgs), 12)}${pad(Math.round(r.msgs / s).toLocaleString('en-US'), 12)}${pad((r.bytes / s / 1e6).toFixed(1), 10)}${pad(r.ms.toFixed(0), 8)}`,
  );
}
await Promise.all([client.close(), server.close()]);
