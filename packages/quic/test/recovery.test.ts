// Loss-recovery knobs (docs/quic-edge.md "Loss recovery"): validated strictly, accepted by quinn,
// and visible in the connection's stats (the congestion-window floor).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LOW_LATENCY_TRANSPORT, QuicError, QuicErrorCode, TRANSPORT_DEFAULTS, type QuicStream, type QuicTransportOptions } from '../src/index.js';
import { toRawTransport } from '../src/options.js';
import { closeAll, collect, once, pair, pattern, server } from './helpers.js';

after(closeAll);

const invalid = (transport: QuicTransportOptions): void => {
  assert.throws(() => server({ transport }), (e: unknown) => e instanceof QuicError && e.code === QuicErrorCode.InvalidOptions, JSON.stringify(transport));
};

describe('loss recovery options', () => {
  it('refuses out-of-range values', () => {
    invalid({ packetThreshold: 2 });
    invalid({ timeThreshold: 0.5 });
    invalid({ timeThreshold: Number.NaN });
    invalid({ initialRttMs: 0 });
    invalid({ persistentCongestionThreshold: 0 });
    invalid({ ackFrequency: 1 as never });
    invalid({ ackMaxDelayMs: 1.5 });
    invalid({ minCongestionWindow: -1 });
  });

  it('the native layer receives every option resolved: given values win, the rest are the defaults', () => {
    assert.deepEqual(toRawTransport(undefined), TRANSPORT_DEFAULTS);
    const raw = toRawTransport({ packetThreshold: 4, ackFrequency: true, idleTimeoutMs: undefined });
    assert.equal(raw.packetThreshold, 4);
    assert.equal(raw.ackFrequency, true);
    assert.equal(raw.idleTimeoutMs, TRANSPORT_DEFAULTS.idleTimeoutMs, 'an undefined option takes the default');
    assert.deepEqual(Object.keys(raw).sort(), Object.keys(TRANSPORT_DEFAULTS).sort());
  });

  it('the low-latency preset (ACK frequency + window floor) carries data; stats show the floor', async () => {
    const { c, s } = await pair({ ...LOW_LATENCY_TRANSPORT, packetThreshold: 4, timeThreshold: 1.25, initialRttMs: 50, persistentCongestionThreshold: 4, congestion: 'newreno' });
    const st = s.openUniStream();
    const got = once<[QuicStream]>(c, 'stream');
    st.end(pattern(300_000));
    const [rx] = await got;
    const col = collect(rx);
    await col.ended;
    assert.equal(col.bytes(), 300_000);
    const stats = s.stats();
    assert.ok(stats !== undefined && stats.congestionWindow >= 64 * 1024, `cwnd ${stats?.congestionWindow} >= floor`);
  });
});
