// Transport-level loss probe: the binding alone (no relay), to study how quinn's recovery settings
// shape the latency tail under random loss. A server writes 256-byte messages stamped with their
// send time to N unidirectional streams (one writev per stream per ~1 ms tick); the client reads
// them (with `--stall`, never the first stream) and measures one-way latency. Prints percentiles
// and both connections' stats (lost packets, RTT, cwnd, congestion events).
// Run it inside a namespace with a loss rule (bench:loss's netns), e.g.
//   ip netns exec NS node --conditions=development --import tsx bench/loss/quic-probe.ts \
//     --seconds 5 --rate 1000 --streams 1 --server '{"maxAckDelayMs":1}' --client '{}'
import { parseArgs } from 'node:util';
import { QuicEndpoint, generateTestPki, type QuicConnection, type QuicConnectionStats, type QuicStream, type QuicTransportOptions } from '@fastpubsub/quic';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
    streams: { type: 'string', default: '1' },
    stall: { type: 'boolean', default: false },
    server: { type: 'string', default: '{}' },
    client: { type: 'string', default: '{}' },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const nStreams = Number(values.streams);
const serverTransport = JSON.parse(values.server) as QuicTransportOptions;
const clientTransport = JSON.parse(values.client) as QuicTransportOptions;
const SIZE = 256;

const pki = generateTestPki();
const server = new QuicEndpoint({ host: '127.0.0.1', server: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, alpn: ['probe'] }, transport: serverTransport });
const client = new QuicEndpoint({ host: '127.0.0.1', transport: clientTransport });
const accepted = new Promise<QuicConnection>((r) => server.once('connection', r));
const c = await client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpn: ['probe'], caPem: pki.caCertPem });
const s = await accepted;
const lat: number[] = [];
let idx = 0;
c.on('stream', (st: QuicStream) => {
  const i = idx++;
  if (values.stall && i === 0) { st.pause(); st.on('data', () => undefined); return; }
  let carry = Buffer.alloc(0);
  st.on('data', (d: Buffer) => {
    const now = performance.now();
    const b = carry.length > 0 ? Buffer.concat([carry, d]) : d;
    let o = 0;
    for (; o + SIZE <= b.length; o += SIZE) lat.push(now - b.readDoubleLE(o));
    carry = Buffer.from(b.subarray(o));
  });
});
const streams = Array.from({ length: nStreams }, () => s.openUniStream());
if (values.stall) {
  // Fill the stalled stream's window and send buffer first, as bench:loss does.
  const big = Buffer.alloc(60_000, 1);
  for (let k = 0; k < 10; k++) streams[0]?.write(big);
}
await new Promise((r) => setTimeout(r, 300));
const payload = Buffer.alloc(SIZE, 7);
const t0 = performance.now();
const total = seconds * rate;
let sent = 0;
const blocked = new Set<number>();
streams.forEach((st, i) => st.on('drain', () => blocked.delete(i)));
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
  const msgs: Buffer[] = [];
  for (; sent < due; sent++) { const m = Buffer.from(payload); m.writeDoubleLE(performance.now(), 0); msgs.push(m); }
  if (msgs.length > 0) streams.forEach((st, i) => { if (values.stall && i === 0) return; if (!blocked.has(i) && !st.writev(msgs)) blocked.add(i); });
  await new Promise((r) => setTimeout(r, 1));
}
const expected = total * (values.stall ? nStreams - 1 : nStreams);
const deadline = performance.now() + 10_000;
while (lat.length < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
lat.sort((a, b) => a - b);
const p = (q: number): string => (lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? Number.NaN).toFixed(2);
const fmt = (st: QuicConnectionStats | undefined): string => st === undefined ? '-' :
  `rtt ${st.rttMs.toFixed(2)} minRtt ${st.minRttMs.toFixed(2)} cwnd ${st.congestionWindow} congEvents ${st.congestionEvents} lost ${st.lostPackets}/${st.sentPackets} pkts`;
console.log(`delivered ${lat.length}/${expected} p50 ${p(0.5)} p90 ${p(0.9)} p99 ${p(0.99)} p99.9 ${p(0.999)} max ${(lat[lat.length - 1] ?? Number.NaN).toFixed(2)} ms`);
console.log(`  server(sender): ${fmt(s.stats())}`);
console.log(`  client(recv):   ${fmt(c.stats())}`);
await client.close();
await server.close();
process.exit(0);
