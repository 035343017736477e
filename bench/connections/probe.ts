// The measured client of `npm run bench:connections`: one subscriber and one publisher on their
// own channel, publishing at a fixed rate; each message carries its send time, so the receive
// side records the one-way latency through the broker (both ends in this process, one clock).
import WebSocket from 'ws';
import { connect, type NatsConnection } from 'nats';
import { LatencyHistogram } from '../fanout/histogram.js';
import { nowNs } from '../fanout/payload.js';
import { decodeDelivery, encodePublishV1 } from '../fanout/fastpubsub-adapter.js';

export interface ProbeResult {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

export interface Probe {
  /** Publishes `rate` msg/s of `size` bytes for `durationMs`; the latency of those received. */
  measure(rate: number, durationMs: number, size: number): Promise<ProbeResult>;
  close(): Promise<void>;
}

const PROBE_CHANNEL = 'bench.probe';

interface Ends {
  send(payload: Buffer): void;
  onReceive: ((payload: Buffer) => void) | undefined;
  close(): Promise<void>;
}

function probeOf(ends: Ends): Probe {
  return {
    async measure(rate, durationMs, size) {
      const h = new LatencyHistogram();
      ends.onReceive = (p) => h.record(nowNs() - p.readDoubleBE(0));
      const payload = Buffer.alloc(Math.max(8, size));
      const intervalMs = 1000 / rate;
      const start = performance.now();
      let sent = 0;
      // Paced by the wall clock: each wake sends what is due, so a late timer does not lower the rate.
      while (performance.now() - start < durationMs) {
        const due = Math.floor((performance.now() - start) / intervalMs);
        for (; sent < due; sent++) {
          payload.writeDoubleBE(nowNs(), 0);
          ends.send(payload);
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setTimeout(r, 200)); // the last ones in flight
      ends.onReceive = undefined;
      return { count: h.count, p50Ms: h.quantile(0.5) / 1e6, p99Ms: h.quantile(0.99) / 1e6 };
    },
    close: () => ends.close(),
  };
}

function openWs(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['llps.v1', `at.${token}`], { perMessageDeflate: false });
    ws.once('open', () => { ws.off('error', reject); resolve(ws); });
    ws.once('error', reject);
  });
}

/** A probe through a relay's WebSocket edge (tenant `bench`). */
export async function relayProbe(wsUrl: string, token: string): Promise<Probe> {
  const sub = await openWs(wsUrl, token);
  const pub = await openWs(wsUrl, token);
  const ends: Ends = {
    send: (p) => pub.send(encodePublishV1('bench', PROBE_CHANNEL, p), { binary: true }),
    onReceive: undefined,
    close: async () => { sub.terminate(); pub.terminate(); },
  };
  await new Promise<void>((resolve, reject) => {
    const cmd = `SUB:bench:${PROBE_CHANNEL}`;
    const timer = setTimeout(() => reject(new Error('probe: no OK:SUB within 5 s')), 5000);
    sub.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        if (data.toString('utf8') === `OK:${cmd}`) { clearTimeout(timer); resolve(); }
        return;
      }
      const d = decodeDelivery(data);
      if (d !== undefined) ends.onReceive?.(data.subarray(d.offset, d.offset + d.length));
    });
    sub.send(cmd);
  });
  return probeOf(ends);
}

/** A probe through nats-server. */
export async function natsProbe(url: string): Promise<Probe> {
  const open = (): Promise<NatsConnection> => connect({ servers: url, reconnect: false, noEcho: true, pingInterval: 60_000 });
  const sub = await open();
  const pub = await open();
  const ends: Ends = {
    send: (p) => pub.publish(PROBE_CHANNEL, Buffer.from(p)),
    onReceive: undefined,
    close: async () => { await sub.close(); await pub.close(); },
  };
  sub.subscribe(PROBE_CHANNEL, { callback: (err, msg) => { if (err === null) ends.onReceive?.(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength)); } });
  await sub.flush();
  return probeOf(ends);
}
