import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayMetrics } from '../src/metrics.js';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('hot-path counters are plain cells that every scrape reports, repeatably', async () => {
  const m = new RelayMetrics({ connections: (e) => (e === 'ws' ? 2 : 1), subscriptions: () => 3 });
  let text = await m.text();
  // Present (at zero) before any traffic, so rates and alerts work from the first scrape.
  assert.equal(sample(text, 'fastpubsub_messages_in_total{edge="quic"}'), 0);
  assert.equal(sample(text, 'fastpubsub_dropped_messages_total{reason="no_subscribers"}'), 0);
  m.ws.messagesIn.inc();
  m.ws.messagesIn.inc(4);
  m.quic.bytesOut.inc(1000);
  m.dropped('slow_consumer', 7);
  m.error('bad_frame');
  m.error('bad_frame');
  m.slowConsumerDisconnects.inc();
  text = await m.text();
  assert.equal(sample(text, 'fastpubsub_messages_in_total{edge="ws"}'), 5);
  assert.equal(sample(text, 'fastpubsub_bytes_out_total{edge="quic"}'), 1000);
  assert.equal(sample(text, 'fastpubsub_dropped_messages_total{reason="slow_consumer"}'), 7);
  assert.equal(sample(text, 'fastpubsub_errors_total{code="bad_frame"}'), 2);
  assert.equal(sample(text, 'fastpubsub_slow_consumer_disconnects_total'), 1);
  assert.equal(sample(text, 'fastpubsub_connections{edge="ws"}'), 2);
  assert.equal(sample(text, 'fastpubsub_subscriptions'), 3);
  // A scrape reads the cells; it must not add to them.
  assert.equal(await m.text(), text);
});
