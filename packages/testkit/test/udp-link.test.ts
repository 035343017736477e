// UdpLinkEmulator over real UDP sockets on 127.0.0.1. Timing bounds are generous (shared machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpLinkEmulator } from '../src/index.js';
import { peer, roundTrip, sendMany, sleep, type Peer } from './udp-helpers.js';

async function setup(link: Parameters<typeof UdpLinkEmulator.start>[0]['link'], seed = 1): Promise<{
  a: Peer; b: Peer; emu: UdpLinkEmulator; done: () => Promise<void>;
}> {
  const a = await peer(true);
  const b = await peer(true);
  const emu = await UdpLinkEmulator.start({ a: { host: '127.0.0.1', port: a.port }, b: { host: '127.0.0.1', port: b.port }, link, seed });
  return { a, b, emu, done: async () => { await emu.close(); await a.close(); await b.close(); } };
}

test('echo both ways with stable addresses: A dials B, and B dials A', async () => {
  const { a, b, emu, done } = await setup({ delayMs: 5 });
  try {
    // A → B: B sees one stable source (the session's upstream socket), A sees replies from addressForA.
    for (let i = 0; i < 3; i++) await roundTrip(a, emu.addressForA);
    const atB = b.received.filter((r) => r.msg.toString().startsWith('ping'));
    assert.equal(atB.length, 3);
    assert.equal(new Set(atB.map((r) => r.from.port)).size, 1, 'one stable source port at B');
    assert.notEqual(atB[0]!.from.port, a.port, 'B talks to the emulator, not to A directly');
    for (const r of a.received) assert.equal(r.from.port, emu.addressForA.port, 'replies come from the dialled port');
    // B → A
    await roundTrip(b, emu.addressForB);
    const pong = b.received.at(-1)!;
    assert.equal(pong.msg.toString().slice(0, 4), 'pong');
    assert.equal(pong.from.port, emu.addressForB.port);
    const s = emu.stats();
    assert.equal(s.sessions, 2);
    assert.equal(s.aToB.forwarded, 4); // 3 pings from A + 1 pong from A
    assert.equal(s.bToA.forwarded, 4);
    assert.ok(s.aToB.bytes > 0 && s.aToB.dropped === 0);
  } finally {
    await done();
  }
});

test('each distinct sender gets its own session (4-tuple kept per client)', async () => {
  const { a, b, emu, done } = await setup({});
  const a2 = await peer();
  try {
    a.send(emu.addressForA, 'ping1');
    a2.send(emu.addressForA, 'ping2');
    await a2.waitFor(1, 2000);
    await a.waitFor(1, 2000);
    assert.equal(a.received[0]!.msg.toString(), 'pong1');
    assert.equal(a2.received[0]!.msg.toString(), 'pong2');
    assert.equal(new Set(b.received.map((r) => r.from.port)).size, 2);
  } finally {
    await a2.close();
    await done();
  }
});

test('configured delay is applied per direction (100 ms one way → RTT ≥ 190 ms)', async () => {
  const { a, emu, done } = await setup({ delayMs: 100 });
  try {
    const rtt = await roundTrip(a, emu.addressForA);
    assert.ok(rtt >= 190 && rtt < 800, `rtt ${rtt}`);
    // Only A→B slowed: B→A stays at 100.
    emu.setLink({ delayMs: 10 }, 'bToA');
    const rtt2 = await roundTrip(a, emu.addressForA);
    assert.ok(rtt2 >= 105 && rtt2 < 500, `rtt2 ${rtt2}`);
    assert.equal(emu.params('aToB').delayMs, 100);
    assert.equal(emu.params('bToA').delayMs, 10);
  } finally {
    await done();
  }
});

test('parameters changed at runtime take effect for new packets', async () => {
  const { a, emu, done } = await setup({ delayMs: 0 });
  try {
    const fast = await roundTrip(a, emu.addressForA);
    assert.ok(fast < 150, `fast ${fast}`);
    emu.setLink({ delayMs: 100 });
    const slow = await roundTrip(a, emu.addressForA);
    assert.ok(slow >= 190 && slow < 800, `slow ${slow}`);
    emu.setLink({ delayMs: 0 });
    const again = await roundTrip(a, emu.addressForA);
    assert.ok(again < 150, `again ${again}`);
  } finally {
    await done();
  }
});

test('loss rate ≈ configured over 2000 packets', async () => {
  const { a, b, emu, done } = await setup({}, 1234);
  try {
    emu.setLink({ lossRate: 0.25 }, 'aToB');
    const n = 2000;
    await sendMany(a, emu.addressForA, n);
    await sleep(300);
    const s = emu.stats().aToB;
    assert.equal(s.forwarded + s.dropped, n, 'every packet accounted for');
    assert.equal(s.droppedLoss, s.dropped);
    const rate = s.dropped / n;
    // Binomial sd ≈ 0.0097; ±0.06 is > 6 sd.
    assert.ok(rate > 0.19 && rate < 0.31, `loss ${rate}`);
    const pingsAtB = b.received.filter((r) => r.msg.toString().startsWith('ping')).length;
    assert.ok(pingsAtB <= s.forwarded && pingsAtB >= s.forwarded * 0.98, `B got ${pingsAtB} of ${s.forwarded}`);
  } finally {
    await done();
  }
});

test('down drops everything (in flight too); up again restores the link', async () => {
  const { a, b, emu, done } = await setup({ delayMs: 100 });
  try {
    a.send(emu.addressForA, 'ping-in-flight');
    await sleep(20);
    emu.setDown(true);
    await sendMany(a, emu.addressForA, 50);
    await sleep(300);
    assert.equal(b.received.length, 0);
    assert.equal(a.received.length, 0);
    assert.equal(emu.stats().aToB.droppedDown, 51);
    emu.setDown(false);
    const rtt = await roundTrip(a, emu.addressForA);
    assert.ok(rtt >= 190 && rtt < 800, `rtt ${rtt}`);
  } finally {
    await done();
  }
});

test('jitter does not reorder by default; delays stay within delay ± jitter (plus slack)', async () => {
  const { a, b, emu, done } = await setup({});
  try {
    emu.setLink({ delayMs: 50, jitterMs: 40 }, 'aToB');
    const n = 300;
    const start = performance.now();
    await sendMany(a, emu.addressForA, n, 10, 1);
    await b.waitFor(n, 5000);
    const ids = b.received.map((r) => Number(r.msg.toString().slice(4)));
    assert.deepEqual(ids, Array.from({ length: n }, (_, i) => i));
    assert.ok(b.received[0]!.at - start >= 9, 'first packet delayed by at least delay − jitter');
  } finally {
    await done();
  }
});

test('close() releases the sockets', async () => {
  const { a, emu, done } = await setup({});
  await roundTrip(a, emu.addressForA);
  await done();
  await emu.close(); // idempotent
  // The listen port can be bound again once released.
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(emu.addressForA.port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve) => s.close(() => resolve()));
});
