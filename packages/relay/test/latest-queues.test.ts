// Latest mode in the pure parts: keyed supersession in the subscriber queue and the mesh link
// queue, the `SUB …:L` text extension, the tenant config's per-channel default (Admission) and
// its validation at the control plane.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatSub, formatSuperseded, parseClientText, parseSuperseded, parseSupersededNotice } from '@fastpubsub/wire';
import { OutboundQueue } from '../src/fanout/index.js';
import { LinkSendQueue, type SendSink } from '../src/mesh/link/queue.js';
import { Admission } from '../src/limits/index.js';

const frame = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('OutboundQueue with supersession keys', () => {
  it('replaces a queued chunk of the same key in place, keeps its turn and counts it', () => {
    const q = new OutboundQueue({ maxBytes: 1000, policy: 'drop-oldest' });
    q.push(frame(10, 1), 1, 'a');
    q.push(frame(10, 2), 2); // no key: never superseded
    const r = q.push(frame(30, 3), 3, 'a');
    assert.equal(r.ok && r.superseded, true);
    assert.equal(q.length, 2);
    assert.equal(q.bytes, 40);
    assert.equal(q.supersededCount, 1);
    assert.deepEqual(q.shift(), { chunk: frame(30, 3), enqueuedAtMs: 3, key: 'a' });
    // Once shifted (written), the key is free: the next push queues behind.
    assert.equal(q.push(frame(5, 4), 4, 'a').ok, true);
    assert.equal(q.length, 2);
    assert.equal(q.supersededCount, 1);
  });

  it('holds at most one chunk per key, whatever the push order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', undefined), fc.boolean()), { maxLength: 200 }), (ops) => {
        const q = new OutboundQueue({ maxBytes: 1 << 20, policy: 'drop-oldest' });
        let pushes = 0;
        for (const [key, shift] of ops) {
          if (shift) q.shift();
          else {
            q.push(frame(8, 0), pushes++, key);
          }
        }
        const keys: string[] = [];
        for (let item = q.shift(); item !== undefined; item = q.shift()) if (item.key !== undefined) keys.push(item.key);
        assert.equal(new Set(keys).size, keys.length, `duplicate keys queued: ${keys.join(',')}`);
      }),
    );
  });
});

describe('LinkSendQueue with supersession keys', () => {
  it('keeps only the newest waiting frame per key while the sink is blocked', () => {
    const written: number[] = [];
    let open = false;
    const sink: SendSink = { write: (c) => (written.push(c[0]!), open) };
    const q = new LinkSendQueue(1 << 20);
    q.push(sink, frame(4, 1), 'pos'); // written, and the sink pushes back
    q.push(sink, frame(4, 2), 'pos');
    q.push(sink, frame(4, 3));
    q.push(sink, frame(4, 4), 'pos'); // replaces 2
    q.push(sink, frame(4, 5), 'other');
    assert.equal(q.superseded, 1);
    assert.equal(q.length, 3);
    open = true;
    q.drain(sink);
    assert.deepEqual(written, [1, 4, 3, 5]);
    assert.equal(q.queuedBytes, 0);
  });
});

describe('SUB …:L on the WebSocket edge', () => {
  it('parses the latest suffix and formats it; plain SUBs and UNSUBs are unchanged', () => {
    assert.deepEqual(parseClientText('SUB:t1:pos.#:L'), { kind: 'SUB', tenant: 't1', pattern: 'pos.#', latest: true });
    assert.deepEqual(parseClientText('SUB:t1:pos.#'), { kind: 'SUB', tenant: 't1', pattern: 'pos.#' });
    assert.deepEqual(parseClientText('UNSUB:t1:pos.#:L'), { kind: 'UNSUB', tenant: 't1', pattern: 'pos.#:L' });
    assert.equal(formatSub('t1', 'pos.#', { latest: true }), 'SUB:t1:pos.#:L');
    assert.equal(formatSub('t1', 'pos.#'), 'SUB:t1:pos.#');
  });

  it('supersession notices: SUPERSEDED:t:p:n on WebSocket, OK(id, "superseded:n") on QUIC', () => {
    assert.equal(formatSuperseded('t1', 'pos.#', 12), 'SUPERSEDED:t1:pos.#:12');
    assert.deepEqual(parseSuperseded('SUPERSEDED:t1:pos.#:12'), { tenant: 't1', pattern: 'pos.#', count: 12 });
    for (const bad of ['SUPERSEDED:t1:pos.#', 'SUPERSEDED:t1:pos.#:0', 'SUPERSEDED:t1:pos.#:x', 'OK:SUB:t1:a']) assert.equal(parseSuperseded(bad), undefined, bad);
    assert.equal(parseSupersededNotice('superseded:3'), 3);
    assert.equal(parseSupersededNotice(''), undefined);
    assert.equal(parseSupersededNotice('superseded:-1'), undefined);
  });
});

describe('the tenant config makes channels latest-mode', () => {
  it('by exact channel, by the tenant-wide channel default, and an exact entry overrides the default', () => {
    const a = new Admission();
    assert.equal(a.isLatest('t', 'pos.1'), false);
    a.setLimits('t', { channels: { 'pos.1': { delivery: 'latest' }, 'chat.1': { delivery: 'all' } } }, 0);
    assert.equal(a.isLatest('t', 'pos.1'), true);
    assert.equal(a.isLatest('t', 'pos.2'), false);
    assert.equal(a.isLatest('u', 'pos.1'), false);
    a.setLimits('t', { channel: { delivery: 'latest' }, channels: { 'chat.1': { delivery: 'all', messagesPerSecond: 5 } } }, 0);
    assert.equal(a.isLatest('t', 'anything'), true);
    assert.equal(a.isLatest('t', 'chat.1'), false);
    assert.equal(a.admitPublish('t', 'anything', 10, 0), 'ok', 'a delivery-only entry limits no rate');
  });
});
