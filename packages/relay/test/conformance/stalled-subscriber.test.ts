// Issue 3 "Must show" 2: one of 10 subscribers stops reading; the other 9 receive every message,
// unchanged and in order, while the stalled one's queue fills and its drops are counted (policy
// drop-oldest), or it is disconnected with 4008 (policy disconnect). No timing assertions.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestEnv, http, metricValue, scrapeMetrics, waitFor, within, type Client, type Relay } from '@fastpubsub/testkit/relay';
import { encodePublishV1 } from '@fastpubsub/testkit/relay';

const env = new TestEnv();
afterEach(() => env.cleanup());

const MESSAGES = 3000;
const PAYLOAD_BYTES = 8 * 1024;
const BATCH = 50;
const KiB = 1024;

// Payload for `seq`: u32 seq, then a window into a fixed byte ramp that depends on seq.
const ramp = Buffer.from(Array.from({ length: PAYLOAD_BYTES + 256 }, (_, i) => i & 0xff));
function payloadFor(seq: number): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(seq, 0);
  const off = (seq * 7) & 0xff;
  return Buffer.concat([head, ramp.subarray(off, off + PAYLOAD_BYTES - 4)]);
}
function intact(seq: number, payload: Buffer): boolean {
  const off = (seq * 7) & 0xff;
  return payload.length === PAYLOAD_BYTES && payload.readUInt32BE(0) === seq && payload.subarray(4).equals(ramp.subarray(off, off + PAYLOAD_BYTES - 4));
}

/** Reads `n` deliveries and asserts they are seq 0..n-1 in order, byte-identical. */
async function consumeAll(c: Client, n: number, name: string): Promise<void> {
  for (let seq = 0; seq < n; seq++) {
    const d = await c.nextDelivery(10_000).catch((e: unknown) => {
      throw new Error(`${name}: waiting for seq ${seq}: ${e instanceof Error ? e.message : String(e)}`);
    });
    assert.equal(d.tenant, 't1');
    assert.equal(d.channel, 'load.fan');
    assert.deepEqual(d.patterns, ['load.#']);
    const got = d.payload.length >= 4 ? d.payload.readUInt32BE(0) : -1;
    assert.equal(got, seq, `${name}: expected seq ${seq}, got ${got} (lost or reordered)`);
    assert.ok(intact(seq, d.payload), `${name}: payload of seq ${seq} altered`);
  }
}

interface Setup {
  relay: Relay;
  healthy: Client[];
  stalled: Client;
  pub: Client;
  observer: Client;
}

async function setup(policy: 'drop-oldest' | 'disconnect'): Promise<Setup> {
  const relay = await env.relay({ limits: { outboundQueueBytes: 256 * KiB, slowConsumerPolicy: policy } });
  const subs: Client[] = [];
  for (let i = 0; i < 10; i++) {
    const c = await env.client(relay);
    await c.sub('t1', 'load.#');
    subs.push(c);
  }
  const stalled = subs[3];
  assert.ok(stalled);
  assert.equal(typeof stalled.ws.pause, 'function', 'ws.pause() exists in the installed ws');
  stalled.ws.pause(); // stops reading its socket: the kernel buffers fill, then the relay's queue
  const pub = await env.client(relay);
  const observer = await env.client(relay);
  return { relay, healthy: subs.filter((c) => c !== stalled), stalled, pub, observer };
}

async function publishAll(pub: Client): Promise<void> {
  for (let seq = 0; seq < MESSAGES; seq++) {
    pub.sendBinary(encodePublishV1('t1', 'load.fan', payloadFor(seq)));
    // PONG proves the relay processed (fanned out) the batch; bounds the publisher's backlog.
    if ((seq + 1) % BATCH === 0) await pub.ping(10_000);
  }
  await pub.ping(10_000);
}

async function relayResponsive(s: Setup): Promise<void> {
  await s.observer.ping(2000);
  const fresh = await env.client(s.relay);
  await fresh.ping(2000);
  const r = await http(s.relay.httpUrl, 'GET', '/ping', { bearer: null, timeoutMs: 2000 });
  assert.equal(r.text.trim(), 'pong');
}

describe('stalled subscriber (issue 3 must-show 2)', () => {
  test('drop-oldest: 9 of 10 get all 3000 × 8 KiB messages intact and in order; the stalled one\'s drops are counted', async (t) => {
    const s = await setup('drop-oldest');
    const consumers = s.healthy.map((c, i) => consumeAll(c, MESSAGES, `healthy subscriber ${i}`));
    await within(Promise.all([publishAll(s.pub), ...consumers]), 60_000, 'publish and consume');
    await relayResponsive(s);

    const text = await scrapeMetrics(s.relay);
    const dropped = metricValue(text, 'fastpubsub_dropped_messages_total', { reason: 'slow_consumer' });
    assert.ok(dropped !== undefined && dropped > 0, `fastpubsub_dropped_messages_total{reason="slow_consumer"} = ${dropped}`);
    assert.equal(metricValue(text, 'fastpubsub_slow_consumer_disconnects_total') ?? 0, 0, 'drop-oldest must not disconnect');
    assert.equal(s.stalled.closeInfo, undefined, 'drop-oldest keeps the stalled connection open');

    // Resumed, the stalled subscriber gets whole, unaltered frames in increasing order, ending
    // with the newest message (drop-oldest keeps the newest); each missing one was counted.
    s.stalled.ws.resume();
    let last = -1;
    let received = 0;
    while (last < MESSAGES - 1) {
      const d = await s.stalled.nextDelivery(5000).catch((e: unknown) => {
        throw new Error(`stalled subscriber after resume (last seq ${last}): ${e instanceof Error ? e.message : String(e)}`);
      });
      const seq = d.payload.readUInt32BE(0);
      assert.ok(seq > last, `stalled subscriber: seq ${seq} after ${last}`);
      assert.ok(intact(seq, d.payload), `stalled subscriber: payload of seq ${seq} altered`);
      last = seq;
      received++;
    }
    assert.ok(received < MESSAGES, 'the stalled subscriber must have missed some messages');
    assert.equal(dropped, MESSAGES - received, `drops counted (${dropped}) = messages the stalled subscriber missed (${MESSAGES - received})`);
    t.diagnostic(`stalled subscriber: ${received} delivered, ${dropped} dropped and counted`);
    await s.stalled.ping(2000);
  });

  test('disconnect: the stalled subscriber is closed with 4008; the other 9 get everything', async (t) => {
    const s = await setup('disconnect');
    const consumers = s.healthy.map((c, i) => consumeAll(c, MESSAGES, `healthy subscriber ${i}`));
    await within(Promise.all([publishAll(s.pub), ...consumers]), 60_000, 'publish and consume');
    await relayResponsive(s);

    await waitFor(
      async () => (metricValue(await scrapeMetrics(s.relay), 'fastpubsub_slow_consumer_disconnects_total') ?? 0) >= 1,
      3000,
      'fastpubsub_slow_consumer_disconnects_total ≥ 1',
    );
    // Reading again, the client sees the relay's close frame after whatever was already buffered.
    s.stalled.ws.resume();
    const closed = await within(s.stalled.closed, 10_000, 'the stalled connection to close');
    assert.equal(closed.code, 4008, `stalled subscriber closed with ${closed.code} ${JSON.stringify(closed.reason)}`);
    for (const c of s.healthy) assert.equal(c.closeInfo, undefined, 'healthy subscribers stay connected');
    t.diagnostic(`stalled subscriber closed with ${closed.code} ${JSON.stringify(closed.reason)}`);
  });
});
