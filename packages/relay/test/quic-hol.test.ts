// Must-show 1 (issue 4): head-of-line isolation on one QUIC connection. Ten subscriptions, one
// reader stops entirely (stops reading its stream): the other nine receive every message while
// the stalled stream is blocked by flow control, and the stalled one's drops are counted.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { QuicEdgeClient } from '@fastpubsub/client/quic';
import { TestEnv, metricValue, scrapeMetrics, waitFor } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
after(() => env.cleanup());

test('quic: one stalled subscription stream does not slow the other nine on the same connection', async () => {
  const relay = await env.relay({ quic: { streamQueueBytes: 256 * 1024 } });
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
    subs[0]!.pause(); // the stalled reader: never reads its stream again

    const N = 3000;
    const payload = Buffer.alloc(8 * 1024, 1); // 24 MB per subscriber: far beyond every window and queue
    const BURST = 20;
    for (let sent = 0; sent < N; sent += BURST) {
      for (let i = 0; i < BURST; i++) pub.publish('t1', 'load.hol', payload);
      // Pace by a healthy reader, so only the stalled one can fall behind.
      await waitFor(() => counts[1]! >= sent + BURST, 5000, `healthy reader at ${sent + BURST}: ${counts.join(",")}`);
    }
    await waitFor(() => counts.slice(1).every((c) => c === N), 5000, 'every healthy reader has every message');
    assert.deepEqual(counts.slice(1), new Array(9).fill(N));
    assert.ok(counts[0]! < N / 10, `the stalled reader got ${counts[0]} messages before pausing`);
    const text = await scrapeMetrics(relay);
    const dropped = metricValue(text, 'fastpubsub_dropped_messages_total', { reason: 'slow_consumer' }) ?? 0;
    // Everything beyond the per-stream window, transport buffer and 256 KiB queue is dropped.
    assert.ok(dropped > N / 2, `slow_consumer drops counted: ${dropped}`);
    assert.equal(metricValue(text, 'fastpubsub_messages_out_total', { edge: 'quic' })! >= 9 * N, true);
  } finally {
    await sub.closed();
    await pub.closed();
  }
});
