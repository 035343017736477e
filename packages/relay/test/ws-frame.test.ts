// The WebSocket edge's delivery frames: the in-place header (written into the headroom the
// delivery was encoded after) must give exactly the bytes of a frame built by copying, at every
// header size, and a publish's frames are built once per distinct pattern list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
