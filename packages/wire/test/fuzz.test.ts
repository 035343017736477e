// Property tests (fast-check), bounded by numRuns and small sizes so they finish in seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FrameDecoder,
  FrameType,
  MAX_FRAME_PAYLOAD,
  WireError,
  decodeDelivery,
  decodeFrame,
  decodePublish,
  encodeDelivery,
  encodeDeliveryAfter,
  encodeDeliveryHead,
  encodeDeliveryTail,
  encodeFrame,
  encodePublish,
  parseClientText,
  parseServerText,
  validateChannel,
  validatePattern,
  validateTenant,
  type Frame,
} from '@fastpubsub/wire';

const RUNS = 500;

/** Runs fn; an exception other than a WireError fails the property. */
function onlyWireErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
  }
}

const nameChar = fc.constantFrom(...'abcXYZ019_-~@'.split(''));
const token = fc.string({ unit: nameChar, minLength: 1, maxLength: 8 });
const channel = fc.array(token, { minLength: 1, maxLength: 5 }).map((t) => t.join('.'));
const tenant = fc.string({ unit: nameChar, minLength: 1, maxLength: 20 });
const topic = fc.string({ maxLength: 40, unit: 'grapheme' }).filter((s) => new TextEncoder().encode(s).length <= 255);
const frameArb: fc.Arbitrary<Frame> = fc.record({
  type: fc.constantFrom(...Object.values(FrameType)),
  topic,
  payload: fc.uint8Array({ maxLength: 300 }),
}).map((r) => ({ type: r.type, topic: r.topic, payload: r.payload })); // plain prototype, for deepEqual

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Splits `buf` at the given cut points (taken modulo its length). */
function split(buf: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (buf.length === 0 ? 0 : c % (buf.length + 1))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

test('decodeFrame(encodeFrame(f)) == f', () => {
  fc.assert(fc.property(frameArb, (f) => {
    assert.deepEqual(decodeFrame(encodeFrame(f.type, f.topic, f.payload)), f);
  }), { numRuns: RUNS });
});

test('a valid stream split at random points yields the frames of one push', () => {
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
    const buf = concat(frames.map((f) => encodeFrame(f.type, f.topic, f.payload)));
    const whole = new FrameDecoder().push(buf);
    assert.deepEqual(whole, frames);
    const dec = new FrameDecoder();
    const got = split(buf, cuts).flatMap((c) => dec.push(c));
    assert.deepEqual(got, frames);
    assert.equal(dec.bufferedBytes, 0);
  }), { numRuns: RUNS });
});

test('random bytes in random splits only ever raise WireError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), (buf, cuts) => {
    const dec = new FrameDecoder({ maxPayload: 1024 });
    onlyWireErrors(() => {
      for (const c of split(buf, cuts)) dec.push(c);
    });
    onlyWireErrors(() => decodeFrame(buf));
    onlyWireErrors(() => decodePublish(buf));
    onlyWireErrors(() => decodeDelivery(buf));
  }), { numRuns: RUNS });
});

test('mutated valid streams: any split gives the same frames and the same error as one push', () => {
  fc.assert(fc.property(
    fc.array(frameArb, { minLength: 1, maxLength: 5 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    fc.array(fc.nat(), { maxLength: 12 }),
    (frames, edits, cuts) => {
      const buf = concat(frames.map((f) => encodeFrame(f.type, f.topic, f.payload)));
      for (const [pos, byte] of edits) buf[pos % buf.length] = byte;
      const outcome = (chunks: Uint8Array[]): [Frame[], string | undefined] => {
        const dec = new FrameDecoder({ maxPayload: 4096 });
        const got: Frame[] = [];
        try {
          for (const c of chunks) dec.feed(c, (f) => got.push({ ...f, payload: f.payload.slice() }));
        } catch (err) {
          if (!(err instanceof WireError)) throw err;
          return [got, err.code];
        }
        return [got, undefined];
      };
      assert.deepEqual(outcome(split(buf, cuts)), outcome([buf]));
    },
  ), { numRuns: RUNS });
});

test('garbage after valid frames: the valid prefix is delivered, then only a WireError', () => {
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 4 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), (frames, junk) => {
    const dec = new FrameDecoder();
    const got: Frame[] = [];
    const buf = concat([...frames.map((f) => encodeFrame(f.type, f.topic, f.payload)), junk]);
    onlyWireErrors(() => dec.feed(buf, (f) => got.push(f)));
    assert.deepEqual(got.slice(0, frames.length), frames);
  }), { numRuns: RUNS });
});

test('declared oversize lengths are rejected from the header alone, without allocating', () => {
  fc.assert(fc.property(
    fc.constantFrom(...Object.values(FrameType)),
    fc.integer({ min: MAX_FRAME_PAYLOAD + 1, max: 0xffffffff }),
    fc.nat({ max: 5 }),
    (type, len, cut) => {
      const header = Uint8Array.of(type, 0, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
      const dec = new FrameDecoder();
      assert.deepEqual(dec.push(header.subarray(0, cut)), []);
      assert.throws(() => dec.push(header.subarray(cut)), (e: unknown) => e instanceof WireError && e.code === 'payload_too_large');
      // Nothing beyond the 6-byte header scratch was taken.
      assert.equal(dec.bufferedBytes, 0);
      assert.equal(dec.reservedBytes, 0);
    },
  ), { numRuns: RUNS });
});

test('publish and delivery round-trip', () => {
  fc.assert(fc.property(tenant, channel, fc.uint8Array({ maxLength: 200 }), fc.option(fc.constantFrom(0 as const, 1 as const, 2 as const), { nil: undefined }), (t, c, payload, mode) => {
    const p = decodePublish(encodePublish({ tenant: t, channel: c, payload, mode }));
    assert.deepEqual(p, { version: mode === undefined ? 1 : 2, mode: mode ?? 0, tenant: t, channel: c, payload });
  }), { numRuns: RUNS });
  fc.assert(fc.property(tenant, channel, fc.uint8Array({ maxLength: 200 }), fc.array(channel, { minLength: 1, maxLength: 5 }), (t, c, payload, patterns) => {
    const whole = encodeDelivery(t, c, payload, patterns);
    assert.deepEqual(whole, concat([encodeDeliveryHead(t, c, payload), encodeDeliveryTail(patterns)]));
    assert.deepEqual(decodeDelivery(whole), { tenant: t, channel: c, payload, patterns });
    // With headroom and uninitialised memory (as Buffer.allocUnsafe gives): the same bytes after it.
    const room = encodeDeliveryAfter(10, t, c, payload, patterns, (n) => new Uint8Array(n).fill(0xee));
    assert.deepEqual(room.subarray(10), whole);
  }), { numRuns: RUNS });
});

test('text parsers and name validators never throw anything but WireError', () => {
  fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => {
    onlyWireErrors(() => parseClientText(s));
    assert.ok(['OK', 'PONG', 'ERR', 'RECONNECT', 'unknown'].includes(parseServerText(s).kind));
    onlyWireErrors(() => validateTenant(s));
    onlyWireErrors(() => validateChannel(s));
    onlyWireErrors(() => validatePattern(s));
  }), { numRuns: RUNS });
});
