// Bursts larger than the connection's send window on one QUIC connection with ten subscription
// streams, one of them stalled: every healthy subscription must still get every message, within
// a bound. Regression test for a stall where nothing reached any subscriber once ~8 MB were
// queued in one tick.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { QuicEdgeClient } from '@fastpubsub/client/quic';
import { TestEnv, waitFor } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
after(() => env.cleanup());

const cases = [
  { stalled: false, backToBack: false },
  { stalled: true, backToBack: false },
  { stalled: true, backToBack: true },
];
for (const { stalled, backToBack } of cases) {
  const what = `${stalled ? 'one stalled' : 'none stalled'}, ${backToBack ? 'one burst per 5 ms tick' : 'each burst after the last was delivered'}`;
  test(`quic: 100 x 8 KiB bursts to 10 streams on one connection (${what}) all reach the healthy readers`, async () => {
    const relay = await env.relay({ quic: { streamQueueBytes: 4 * 1024 * 1024 } });
    const token = await env.token(relay);
    const opts = { host: '127.0.0.1', port: relay.quicPort as number, token, caPem: relay.quicCaPem as string };
    const sub = await QuicEdgeClient.connect(opts);
    const pub = await QuicEdgeClient.connect(opts);
    try {
      const subs = Array.from({ length: 10 }, () => sub.subscribe('t1', 'load.#'));
      const counts = new Array<number>(10).fill(0);
      subs.forEach((s, i) => (s.onMessage = () => void counts[i]!++));
      await Promise.all(subs.map((s) => s.ready));
      await waitFor(() => subs.every((s) => s.stream !== undefined), 2000, 'subscription streams');
      if (stalled) subs[0]!.pause();

      const BURST = 100;
      const BURSTS = 4;
      const payload = Buffer.alloc(8 * 1024, 1); // 100 x 8 KiB x 10 streams = 8 MB per burst
      const t0 = performance.now();
      for (let b = 1; b <= BURSTS; b++) {
        for (let i = 0; i < BURST; i++) pub.publish('t1', 'load.burst', payload);
        // Back to back: 32 MB offered in 20 ms; the 4 MiB queues hold it all, the window does not.
        if (backToBack) await new Promise((r) => setTimeout(r, 5));
        else await waitFor(() => counts.slice(1).every((c) => c >= b * BURST), 5000, `burst ${b}: ${counts.join(',')}`);
      }
      await waitFor(() => counts.slice(1).every((c) => c >= BURSTS * BURST), 5000, `all bursts: ${counts.join(',')}`);
      const ms = performance.now() - t0;
      assert.deepEqual(counts.slice(1), new Array(9).fill(BURSTS * BURST));
      assert.ok(ms < 10_000, `${BURSTS} bursts took ${ms.toFixed(0)} ms`);
    } finally {
      await sub.closed();
      await pub.closed();
    }
  });
}
