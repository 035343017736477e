import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { QuicStream } from '../src/index.js';
import { closeAll, once, pair, pattern, until } from './helpers.js';

after(closeAll);

/** Writes `total` bytes in `size` chunks, honouring write() === false / 'drain'. */
function pump(st: QuicStream, total: number, size = 64 * 1024): { sent: () => number; done: Promise<void>; falses: () => number } {
  let sent = 0;
  let falses = 0;
  const chunk = pattern(size);
  const done = new Promise<void>((resolve) => {
    const go = (): void => {
      while (sent < total) {
        const ok = st.write(chunk);
        sent += size;
        if (!ok) {
          falses++;
          st.once('drain', go);
          return;
        }
      }
      st.end();
      resolve();
    };
    go();
  });
  return { sent: () => sent, done, falses: () => falses };
}

describe('quic flow control', () => {
  it('a stalled stream does not stop another stream on the same connection (head-of-line isolation)', async () => {
    // Windows: 256 KiB per stream, 8 MiB per connection. The healthy stream moves 24 MiB —
    // three times the connection window — while the stalled one holds its share.
    const { c, s } = await pair();
    const readers = new Map<string, { stream: QuicStream; bytes: number; ended: boolean }>();
    s.on('stream', (st) => {
      const r = { stream: st, bytes: 0, ended: false };
      st.once('data', (first: Buffer) => {
        readers.set(first.subarray(0, 1).toString(), r);
        if (first[0] === 0x53 /* 'S' */) st.pause(); // the stalled reader stops entirely
      });
      st.on('data', (d: Buffer) => (r.bytes += d.length));
      st.on('end', () => (r.ended = true));
    });
    const stalled = c.openUniStream();
    stalled.write(Buffer.from('S'));
    const stalledPump = pump(stalled, 16 << 20);
    const healthy = c.openUniStream();
    healthy.write(Buffer.from('H'));
    const healthyPump = pump(healthy, 24 << 20);
    await healthyPump.done;
    await until(() => readers.get('H')?.ended === true, 20_000, 'healthy stream delivered');
    assert.equal(readers.get('H')?.bytes, 1 + (24 << 20));
    const stalledReader = readers.get('S');
    assert.ok(stalledReader);
    assert.ok(stalledReader.bytes < 2 << 20, `stalled stream delivered ${stalledReader.bytes} bytes while paused`);
    assert.ok(stalledPump.falses() > 0, 'writer of the stalled stream saw backpressure');
    assert.ok(stalledPump.sent() < 4 << 20, `stalled writer got ${stalledPump.sent()} bytes in`);
    // Un-stall: everything arrives.
    stalledReader.stream.resume();
    await stalledPump.done;
    await until(() => stalledReader.ended, 20_000, 'stalled stream delivered after resume');
    assert.equal(stalledReader.bytes, 1 + (16 << 20));
  });

  it('write() returns false under backpressure and drain follows when the reader resumes', async () => {
    const { c, s } = await pair({ sendHighWaterMark: 64 * 1024 });
    const incoming = once<[QuicStream]>(s, 'stream');
    const st = c.openUniStream();
    st.write(Buffer.from('x'));
    const [r] = await incoming;
    r.pause();
    let received = 0;
    r.on('data', (d: Buffer) => (received += d.length));
    const chunk = Buffer.alloc(16 * 1024);
    let accepted = 0;
    let ok = true;
    for (let i = 0; i < 1000 && ok; i++) {
      ok = st.write(chunk);
      accepted += chunk.length;
    }
    assert.equal(ok, false, 'write() must report backpressure');
    // At least the high-water mark; at most that plus what the windows let QUIC take
    // (stream window 256 KiB + the reader's 256 KiB binding buffer) plus one chunk.
    assert.ok(accepted >= 64 * 1024 && accepted <= (64 + 256 + 256 + 16) * 1024, `accepted ${accepted} before false`);
    assert.ok(st.writableLength > 0);
    // QUIC takes what the windows allow, then stops; no drain while the reader is stalled.
    const drained = once(st, 'drain', 10_000);
    r.resume();
    await drained;
    assert.ok(st.writableLength < 64 * 1024);
    st.end();
    await until(() => received === accepted + 1, 10_000, 'all bytes received');
  });
});
