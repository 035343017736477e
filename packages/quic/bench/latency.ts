// One-way latency over the binding alone, client and server in this process: the server writes
// 256-byte messages stamped with their send time to N unidirectional streams every ~1 ms (one
// writev per stream); the client measures each on arrival. With `stall` the client never reads
// the first stream (it blocks on flow control) and the others are measured.
//   node --conditions=development --import tsx packages/quic/bench/latency.ts [seconds] [msg/s] [streams] [stall]
// SERIES=1 also prints the worst latency per 100 ms of the run.
import { QuicEndpoint, generateTestPki, type QuicConnection, type QuicStream } from '../src/index.js';
const seconds = Number(process.argv[2] ?? 3);
const rate = Number(process.argv[3] ?? 5000);
const nStreams = Number(process.argv[4] ?? 10);
const stall = process.argv[5] === 'stall';
const pki = generateTestPki();
const server = new QuicEndpoint({ host: '127.0.0.1', server: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, alpn: ['bench'] } });
const client = new QuicEndpoint({ host: '127.0.0.1' });
const accepted = new Promise<QuicConnection>((r) => server.once('connection', r));
const c = await client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpn: ['bench'], caPem: pki.caCertPem });
const s = await accepted;
const lat: number[] = [];
const series: [number, number][] = [];
let idx = 0;
c.on('stream', (st: QuicStream) => {
  const i = idx++;
  if (stall && i === 0) { st.pause(); st.on('data', () => {}); return; }
  let carry = Buffer.alloc(0);
  st.on('data', (d: Buffer) => {
    const now = performance.now();
    const b = carry.length ? Buffer.concat([carry, d]) : d;
    let o = 0;
    for (; o + 256 <= b.length; o += 256) { const l = now - b.readDoubleLE(o); lat.push(l); series.push([b.readDoubleLE(o), l]); }
    carry = Buffer.from(b.subarray(o));
  });
});
const streams = Array.from({ length: nStreams }, () => s.openUniStream());
await new Promise((r) => setTimeout(r, 200));
const payload = Buffer.alloc(256, 7);
const t0 = performance.now();
const total = seconds * rate;
let sent = 0;
const blocked = new Set<number>();
streams.forEach((st, i) => st.on('drain', () => blocked.delete(i)));
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
  const msgs: Buffer[] = [];
  for (; sent < due; sent++) { const m = Buffer.from(payload); m.writeDoubleLE(performance.now(), 0); msgs.push(m); }
  if (msgs.length) streams.forEach((st, i) => { if (!blocked.has(i)) { if (!st.writev(msgs)) blocked.add(i); } });
  await new Promise((r) => setTimeout(r, 1));
}
await new Promise((r) => setTimeout(r, 500));
const buckets = new Map<number, number>();
for (const [t, l] of series) { const k = Math.floor((t - t0) / 100); buckets.set(k, Math.max(buckets.get(k) ?? 0, l)); }
if (process.env.SERIES) console.log([...buckets].map(([k, v]) => `${k}:${v.toFixed(1)}`).join(' '));
lat.sort((a, b) => a - b);
const p = (q: number) => lat[Math.floor(q * lat.length)]!.toFixed(3);
console.log(`n=${lat.length} expect=${total * (stall ? nStreams - 1 : nStreams)} p50 ${p(0.5)} p90 ${p(0.9)} p99 ${p(0.99)} max ${lat[lat.length - 1]!.toFixed(3)}`);
await client.close(); await server.close();
