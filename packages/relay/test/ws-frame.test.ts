// The WebSocket edge's delivery frames: the in-place header (written into the headroom the
// delivery was encoded after) must give exactly the bytes of a frame built by copying, at every
// header size, and a publish's frames are built once per distinct pattern list. And the cost of
// reading client frames: ws must find its native unmasking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { decodeDelivery } from '@fastpubsub/wire';
import { MAX_FRAME_HEADER_BYTES, frameInPlace, frameMessage } from '../src/edge/ws/frame.js';
import { wsDeliveryFrame } from '../src/edge/ws/publish.js';
import { Encodings } from '../src/delivery/index.js';

test('frameInPlace gives the same bytes as frameMessage at the 2-, 4- and 10-byte header sizes', () => {
  for (const bodyLength of [0, 1, 125, 126, 127, 0xffff, 0x10000, 70_001]) {
    const body = Buffer.alloc(bodyLength);
    for (let i = 0; i < bodyLength; i++) body[i] = (i * 31 + 7) & 0xff;
    const withRoom = Buffer.alloc(MAX_FRAME_HEADER_BYTES + bodyLength, 0xee); // garbage headroom
    body.copy(withRoom, MAX_FRAME_HEADER_BYTES);
    const inPlace = frameInPlace(withRoom);
    assert.deepEqual(Buffer.from(inPlace), frameMessage(true, [body]), `body of ${bodyLength} bytes`);
  }
});

test('wsDeliveryFrame: one frame per distinct pattern list, each a valid binary frame of the delivery', () => {
  const payload = Buffer.from('héllo payload');
  const enc = new Encodings({ tenant: 't1', channel: 'a.b.c', payload, mode: 0, arrivedAtMs: 0, origin: 'ws' });
  const one = wsDeliveryFrame(enc, ['a.#']);
  const two = wsDeliveryFrame(enc, ['a.#', 'a.b.*']);
  assert.equal(wsDeliveryFrame(enc, ['a.#']), one, 'the same list is served from the memo');
  assert.equal(wsDeliveryFrame(enc, ['a.#', 'a.b.*']), two);
  assert.notEqual(one, two);
  for (const [frame, patterns] of [[one, ['a.#']], [two, ['a.#', 'a.b.*']]] as const) {
    assert.equal(frame[0], 0x82, 'FIN + binary opcode');
    assert.equal(frame[1], frame.byteLength - 2, 'a 7-bit length, unmasked');
    const d = decodeDelivery(frame.subarray(2));
    assert.deepEqual({ ...d, payload: Buffer.from(d.payload) }, { tenant: 't1', channel: 'a.b.c', payload, patterns: [...patterns] });
  }
});

test('ws, as the relay loads it, finds its native masking module (bufferutil)', () => {
  // Without it ws unmasks every client frame in a JavaScript byte loop, the largest single
  // cost of a publish in the relay's profile (docs/performance.md).
  const fromRelay = createRequire(new URL('../src/edge/ws/edge.ts', import.meta.url));
  const fromWs = createRequire(fromRelay.resolve('ws'));
  const bufferUtil = fromWs('bufferutil') as { unmask(buf: Buffer, mask: Buffer): void };
  const data = Buffer.from('0123456789abcdef0123456789abcdef0123456789');
  const mask = Buffer.from([1, 2, 3, 4]);
  const copy = Buffer.from(data);
  bufferUtil.unmask(copy, mask);
  for (let i = 0; i < data.length; i++) assert.equal(copy[i], data[i]! ^ mask[i & 3]!);
});
