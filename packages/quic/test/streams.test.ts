import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuicError, QuicErrorCode, type QuicStream } from '../src/index.js';
import { closeAll, collect, once, pair, pattern, sleep, until } from './helpers.js';

after(closeAll);

describe('quic streams', () => {
  it('echoes 1 MiB over a bidirectional stream', async () => {
    const { c, s } = await pair();
    s.on('stream', (st) => {
      st.on('data', (d) => st.write(d));
      st.on('end', () => st.end());
    });
    const payload = pattern(1 << 20);
    const st = c.openBidiStream();
    const got = collect(st);
    const closed = once(st, 'close');
    for (let off = 0; off < payload.length; off += 64 * 1024) st.write(payload.subarray(off, off + 64 * 1024));
    st.end();
    await got.ended;
    assert.ok(Buffer.concat(got.chunks).equals(payload));
    await closed;
    assert.equal(st.closed, true);
  });

  it('opens unidirectional streams from both sides', async () => {
    const { c, s } = await pair();
    const fromClient = once<[QuicStream]>(s, 'stream');
    const u1 = c.openUniStream();
    assert.equal(u1.writable, true);
    assert.equal(u1.readable, false);
    assert.throws(() => u1.pause() && u1.stopSending(1), QuicError);
    u1.end(Buffer.from('up'));
    const [r1] = await fromClient;
    assert.equal(r1.direction, 'uni');
    assert.equal(r1.readable, true);
    assert.equal(r1.writable, false);
    assert.throws(() => r1.write(Buffer.from('x')), (e: unknown) => e instanceof QuicError && e.code === QuicErrorCode.NotWritable);
    const g1 = collect(r1);
    await g1.ended;
    assert.equal(Buffer.concat(g1.chunks).toString(), 'up');

    const fromServer = once<[QuicStream]>(c, 'stream');
    const u2 = s.openUniStream();
    u2.write(Buffer.from('do'));
    u2.end(Buffer.from('wn'));
    const [r2] = await fromServer;
    assert.equal(r2.initiator, 'remote');
    const g2 = collect(r2);
    await g2.ended;
    assert.equal(Buffer.concat(g2.chunks).toString(), 'down');
  });

  it('runs 200 streams concurrently on one connection', async () => {
    const { c, s } = await pair();
    s.on('stream', (st) => {
      st.on('data', (d) => st.write(d));
      st.on('end', () => st.end());
    });
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const st = c.openBidiStream();
        const body = pattern(10_000, i);
        const got = collect(st);
        st.end(body);
        await got.ended;
        return Buffer.concat(got.chunks).equals(body);
      }),
    );
    assert.equal(results.filter(Boolean).length, 200);
  });

  it('sends and receives datagrams; size limit exposed and enforced', async () => {
    const { c, s } = await pair();
    const max = c.maxDatagramSize;
    assert.ok(max !== undefined && max >= 1000 && max < 65536, `maxDatagramSize ${String(max)}`);
    const got: string[] = [];
    s.on('datagram', (d) => {
      got.push(d.toString());
      if (d.length < 100) s.sendDatagram(Buffer.concat([Buffer.from('re:'), d]));
    });
    const back: string[] = [];
    c.on('datagram', (d) => back.push(d.toString()));
    for (let i = 0; i < 20; i++) c.sendDatagram(Buffer.from(`dg${i}`));
    await until(() => back.length >= 18, 3000, 'datagrams echoed');
    assert.ok(got.includes('dg0'));
    assert.ok(back.every((b) => b.startsWith('re:dg')));
    // Path MTU discovery may raise the limit at any moment (never lower it), so test well above.
    assert.throws(() => c.sendDatagram(Buffer.alloc(70_000)), (e: unknown) => e instanceof QuicError && e.code === QuicErrorCode.DatagramTooLarge);
    assert.doesNotThrow(() => c.sendDatagram(Buffer.alloc(c.maxDatagramSize ?? 0)));
    await sleep(50);
    const st = c.stats();
    assert.ok(st !== undefined && st.datagramsSent >= 21);
  });

  it('reset(code) is seen by the reader; stopSending(code) is seen by the writer', async () => {
    const { c, s } = await pair();
    const incoming = once<[QuicStream]>(s, 'stream');
    const a = c.openUniStream();
    a.write(Buffer.from('partial'));
    const [ra] = await incoming;
    const reset = once<[number]>(ra, 'reset');
    a.reset(42);
    assert.deepEqual(await reset, [42]);
    assert.throws(() => a.write(Buffer.from('x')), (e: unknown) => e instanceof QuicError && e.code === QuicErrorCode.StreamClosed);

    const incoming2 = once<[QuicStream]>(s, 'stream');
    const b = c.openBidiStream();
    b.write(Buffer.from('hello'));
    const [rb] = await incoming2;
    const stopped = once<[number]>(b, 'stop');
    rb.stopSending(43);
    assert.deepEqual(await stopped, [43]);
    // The server side of the bidi stream still works the other way.
    const back = collect(b);
    rb.end(Buffer.from('still here'));
    await back.ended;
    assert.equal(Buffer.concat(back.chunks).toString(), 'still here');
  });

  it('close(code, reason) is observed by the peer; both sides report how', async () => {
    const { c, s } = await pair();
    const st = c.openBidiStream();
    st.write(Buffer.from('x'));
    const serverSaw = once<[{ how: string; code: number | undefined; reason: string }]>(s, 'close');
    const streamClosed = once<[QuicError | undefined]>(st, 'close');
    c.close(99, 'done here');
    const [info] = await serverSaw;
    assert.deepEqual(info, { how: 'remote', code: 99, reason: 'done here' });
    assert.deepEqual(await c.closed, { how: 'local', code: 99, reason: 'done here' });
    const [err] = await streamClosed;
    assert.ok(err instanceof QuicError);
    assert.throws(() => c.openBidiStream(), (e: unknown) => e instanceof QuicError && e.code === QuicErrorCode.ConnectionClosed);
  });

  it('reports plausible stats', async () => {
    const { c, s } = await pair();
    s.on('stream', (st) => st.on('data', () => undefined));
    const st = c.openUniStream();
    st.end(pattern(200_000));
    await sleep(100);
    const a = c.stats();
    assert.ok(a);
    assert.ok(a.rttMs > 0 && a.rttMs < 100, `rtt ${a.rttMs}`);
    assert.ok(a.rttVarMs >= 0);
    assert.ok(a.minRttMs > 0 && a.minRttMs <= a.rttMs + 1);
    assert.ok(a.congestionWindow > 10_000);
    assert.ok(a.bytesSent > 200_000, `bytesSent ${a.bytesSent}`);
    assert.ok(a.bytesReceived > 0);
    assert.ok(a.sentPackets > 100);
    assert.equal(a.lostPackets, 0);
    assert.ok(a.mtu >= 1200);
    const b = s.stats();
    assert.ok(b && b.bytesReceived > 200_000);
  });
});
