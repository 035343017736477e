// Smoke test of the fan-out benchmark: the harness in --quick mode against each broker must
// deliver every fixed-rate message to every (healthy) subscriber. Correctness, not speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FanoutBroker, runBench } from './bench.js';
import { decodeDelivery, encodePublishV1 } from './fastpubsub-adapter.js';
import { LatencyHistogram } from './histogram.js';
import { findNatsServer } from './nats-adapter.js';
import { median } from './report.js';

const quick = {
  repeat: 1,
  durationMs: 300,
  warmupMs: 100,
  rate: 1000,
  payloadBytes: 256,
  window: 1000,
  stallFillBytes: 1024 * 1024,
  drainTimeoutMs: 10_000,
  fanouts: [1, 10, 100],
};

function smoke(name: FanoutBroker, missing: string | false): void {
  test(`bench:fanout --quick against ${name} loses nothing at the fixed rate`, { timeout: 120_000 }, async () => {
    // A missing broker fails the test naming it: a green run must mean every row was measured.
    assert.equal(missing, false, String(missing));
    const { runs } = await runBench({ ...quick, brokers: [name] });
    assert.equal(runs.length, 7, 'one run per scenario');
    for (const r of runs) {
      if (r.scenario.startsWith('rate-')) {
        const healthy = r.scenario === 'rate-f10-stalled' ? 9 : Number(r.scenario.slice('rate-f'.length));
        assert.equal(r.published, 300, `${r.scenario}: published`);
        assert.equal(r.expected, r.published * healthy, `${r.scenario}: expected`);
        assert.equal(r.delivered, r.expected, `${r.scenario}: every message reached every healthy subscriber`);
      } else {
        assert.ok(r.delivered > 0, `${r.scenario}: max-throughput row delivered something`);
      }
      assert.ok(r.p50Ms > 0 && r.p50Ms <= r.p99Ms && r.p99Ms <= r.maxMs, `${r.scenario}: p50 <= p99 <= max`);
      assert.ok(r.brokerRssMb > 0, `${r.scenario}: broker RSS sampled`);
    }
  });
}

smoke('fastpubsub', false);
smoke('nats', findNatsServer() === undefined ? 'nats-server is missing: apt-get install nats-server' : false);

test('contract v0.1 codec of the benchmark adapter matches the contract example', () => {
  // §3 example: t1, a.b.c, xyz, patterns a.#, a.b.*
  const good = Buffer.from('01000274310005612e622e630000000378797a00020003612e230005612e622e2a', 'hex');
  assert.deepEqual(decodeDelivery(good), { offset: 16, length: 3 });
  assert.equal(decodeDelivery(Buffer.concat([good, Buffer.from([0])])), undefined, 'trailing byte');
  assert.equal(decodeDelivery(good.subarray(0, good.length - 1)), undefined, 'truncated pattern');
  const zeroCount = Buffer.from(good.subarray(0, 21));
  zeroCount.writeUInt16BE(0, 19);
  assert.equal(decodeDelivery(zeroCount), undefined, 'count 0');
  const badTag = Buffer.from(good);
  badTag[0] = 0x02;
  assert.equal(decodeDelivery(badTag), undefined, 'wrong tag');
  assert.deepEqual(encodePublishV1('t1', 'a.b', Buffer.from('xyz')), Buffer.from('000274310003612e6278797a', 'hex'));
});

test('latency histogram quantiles are within 1 % and median() ignores NaN', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 10_000; i++) h.record(i * 1000); // 1 µs .. 10 ms
  assert.ok(Math.abs(h.quantile(0.5) / 5_000_000 - 1) < 0.011);
  assert.ok(Math.abs(h.quantile(0.99) / 9_900_000 - 1) < 0.011);
  assert.equal(h.quantile(1), 10_000_000);
  assert.equal(median([3, Number.NaN, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});
