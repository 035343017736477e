import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameDecoder,
  FrameType,
  MAX_FRAME_PAYLOAD,
  WireError,
  decodeAuth,
  decodeDmsg,
  decodeErr,
  decodeFrame,
  decodeMsg,
  decodeOk,
  decodePing,
  decodePong,
  decodePub,
  decodeSub,
  decodeUnsub,
  encodeAuth,
  encodeDmsg,
  encodeErr,
  encodeFrame,
  encodeFrameHeader,
  encodeMsg,
  encodeOk,
  encodePing,
  encodePong,
  encodePub,
  encodeSub,
  encodeUnsub,
  isMeshFrameType,
  type Frame,
} from '@fastpubsub/wire';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof WireError && err.code === code);
}

test('encodeFrame lays out the 6-byte header, topic, payload', () => {
  const f = encodeFrame(FrameType.MSG, 'a.b', bytes(0xaa, 0xbb));
  assert.equal(hex(f), '0503' + '00000002' + '612e62' + 'aabb');
  assert.equal(hex(encodeFrameHeader(FrameType.MSG, 3, 2)), '050300000002');
  assert.deepEqual(decodeFrame(f), { type: FrameType.MSG, topic: 'a.b', payload: bytes(0xaa, 0xbb) });
});

test('encodeFrame rejects unknown types, long topics, oversize payloads', () => {
  throwsCode(() => encodeFrame(0x0d, '', bytes()), 'bad_frame');
  throwsCode(() => encodeFrame(0x80, '', bytes()), 'bad_frame');
  throwsCode(() => encodeFrame(FrameType.MSG, 'a'.repeat(256), bytes()), 'bad_frame');
  throwsCode(() => encodeFrame(FrameType.MSG, 'a', new Uint8Array(MAX_FRAME_PAYLOAD + 1)), 'payload_too_large');
  throwsCode(() => encodeFrameHeader(FrameType.MSG, 1, 2 ** 32), 'payload_too_large');
  // Mesh types are encodable; decoders accept them only when asked to.
  const mesh = encodeFrame(0x41, 'x', bytes(1));
  throwsCode(() => decodeFrame(mesh), 'bad_frame');
  const f = decodeFrame(mesh, { acceptType: (t): t is number => isMeshFrameType(t) });
  assert.equal(f.type, 0x41);
});

test('decodeFrame checks exact length and UTF-8 topics', () => {
  const f = encodeFrame(FrameType.OK, 'ab', bytes(0, 0, 0, 1));
  throwsCode(() => decodeFrame(f.subarray(0, f.length - 1)), 'bad_frame');
  throwsCode(() => decodeFrame(Uint8Array.from([...f, 0])), 'bad_frame');
  throwsCode(() => decodeFrame(f.subarray(0, 5)), 'bad_frame');
  throwsCode(() => decodeFrame(bytes(0x05, 1, 0, 0, 0, 0, 0xff)), 'bad_frame');
  throwsCode(() => decodeFrame(bytes(0x05, 0, 0, 0, 0, 9), { maxPayload: 8 }), 'payload_too_large');
});

test('typed frames round-trip', () => {
  const data = bytes(1, 2, 3);
  assert.deepEqual(decodeAuth(decodeFrame(encodeAuth({ token: 'AT_id_secret' }))), { token: 'AT_id_secret' });
  const sub = { id: 7, flags: 1, tenant: 't1', pattern: 'a.#' };
  assert.deepEqual(decodeSub(decodeFrame(encodeSub(sub))), sub);
  const unsub = { id: 0xffffffff, tenant: 't1', pattern: 'a.#' };
  assert.deepEqual(decodeUnsub(decodeFrame(encodeUnsub(unsub))), unsub);
  const pub = { mode: 2 as const, tenant: 't1', channel: 'a.b', data };
  assert.deepEqual(decodePub(decodeFrame(encodePub(pub))), pub);
  assert.deepEqual(decodeMsg(decodeFrame(encodeMsg({ channel: 'a.b', data }))), { channel: 'a.b', data });
  assert.deepEqual(decodeDmsg(decodeFrame(encodeDmsg({ id: 9, channel: 'a.b', data }))), { id: 9, channel: 'a.b', data });
  assert.deepEqual(decodeOk(decodeFrame(encodeOk({ id: 0, topic: '' }))), { id: 0, topic: '' });
  const err = { code: 'permission_denied', id: 3, detail: 'nö' };
  assert.deepEqual(decodeErr(decodeFrame(encodeErr(err))), err);
  assert.deepEqual(decodePing(decodeFrame(encodePing(data))), data);
  assert.deepEqual(decodePong(decodeFrame(encodePong(data))), data);
});

test('typed decoders reject the wrong type and bad lengths', () => {
  throwsCode(() => decodeSub(decodeFrame(encodeOk({ id: 1, topic: 'a' }))), 'bad_frame');
  throwsCode(() => decodeSub(decodeFrame(encodeFrame(FrameType.SUB, 'a', bytes(0, 0, 0, 0, 0)))), 'bad_frame');
  throwsCode(() => decodeSub(decodeFrame(encodeFrame(FrameType.SUB, 'a', bytes(0, 0, 0, 1)))), 'bad_frame');
  throwsCode(() => decodeOk(decodeFrame(encodeFrame(FrameType.OK, '', bytes(0, 0, 0, 1, 0)))), 'bad_frame');
  throwsCode(() => decodePub(decodeFrame(encodeFrame(FrameType.PUB, 'a', bytes(3, 1, 0x74)))), 'bad_frame');
  throwsCode(() => decodePub(decodeFrame(encodeFrame(FrameType.PUB, 'a', bytes(0, 2, 0x74)))), 'bad_frame');
  throwsCode(() => decodePub(decodeFrame(encodeFrame(FrameType.PUB, 'a', bytes(0, 0)))), 'bad_frame');
  const big = new Uint8Array(2 + 1 + 65536);
  big[1] = 1;
  big[2] = 0x74;
  throwsCode(() => decodePub(decodeFrame(encodeFrame(FrameType.PUB, 'a', big))), 'payload_too_large');
  throwsCode(() => encodePub({ mode: 0, tenant: 't', channel: 'a', data: new Uint8Array(65536) }), 'payload_too_large');
  throwsCode(() => decodePing(decodeFrame(encodeFrame(FrameType.PING, '', new Uint8Array(65)))), 'bad_frame');
  throwsCode(() => decodeAuth(decodeFrame(encodeFrame(FrameType.AUTH, 'x', bytes(0x41)))), 'bad_frame');
  throwsCode(() => decodeErr(decodeFrame(encodeFrame(FrameType.ERR, 'x', bytes(0, 0, 0, 0, 0xc3)))), 'bad_frame');
  throwsCode(() => encodeSub({ id: 0, flags: 0, tenant: 't', pattern: 'a' }), 'bad_frame');
  throwsCode(() => encodeSub({ id: 1, flags: 256, tenant: 't', pattern: 'a' }), 'bad_frame');
});

function stream(): { buf: Uint8Array; frames: Frame[] } {
  const parts = [
    encodeAuth({ token: 'AT_a_b' }),
    encodeSub({ id: 1, flags: 0, tenant: 't1', pattern: 'a.#' }),
    encodePing(new Uint8Array(0)),
    encodePub({ mode: 0, tenant: 't1', channel: 'a.b', data: new Uint8Array(300).fill(7) }),
    encodeOk({ id: 1, topic: 'ä.#' }),
  ];
  const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  return { buf, frames: parts.map((p) => decodeFrame(p)) };
}

test('FrameDecoder: one push, and one byte at a time, give the same frames', () => {
  const { buf, frames } = stream();
  assert.deepEqual(new FrameDecoder().push(buf), frames);
  const dec = new FrameDecoder();
  const got: Frame[] = [];
  for (let i = 0; i < buf.length; i++) {
    got.push(...dec.push(buf.subarray(i, i + 1)));
    assert.equal(dec.bufferedBytes <= 6 + 255 + 300 + 2 + 2, true);
  }
  assert.deepEqual(got, frames);
  assert.equal(dec.bufferedBytes, 0);
});

test('FrameDecoder hands out views of the chunk for whole frames', () => {
  const { buf } = stream();
  const out = new FrameDecoder().push(buf);
  for (const f of out) assert.equal(f.payload.buffer, buf.buffer);
});

test('FrameDecoder rejects an oversize declared length before buffering, and stays failed', () => {
  const dec = new FrameDecoder({ maxPayload: 1000 });
  const ok = encodeOk({ id: 1, topic: '' });
  const frames: Frame[] = [];
  const header = bytes(FrameType.MSG, 0, 0xff, 0xff, 0xff, 0xff);
  assert.throws(() => dec.feed(Uint8Array.from([...ok, ...header]), (f) => frames.push(f)), (e: unknown) => e instanceof WireError && e.code === 'payload_too_large');
  assert.equal(frames.length, 1, 'the frame before the fault is delivered');
  assert.equal(dec.bufferedBytes, 0);
  const first = dec.error;
  assert.ok(first);
  assert.throws(() => dec.push(ok), (e: unknown) => e === first);
});

test('FrameDecoder: unknown type and bad UTF-8 topic are bad_frame, also across chunks', () => {
  const dec = new FrameDecoder();
  assert.deepEqual(dec.push(bytes(0x00)), []);
  throwsCode(() => dec.push(bytes(0, 0, 0, 0, 0)), 'bad_frame');
  const dec2 = new FrameDecoder();
  const bad = bytes(FrameType.MSG, 2, 0, 0, 0, 1, 0xc3, 0x28, 0x01);
  for (let i = 0; i < bad.length - 1; i++) assert.deepEqual(dec2.push(bad.subarray(i, i + 1)), []);
  throwsCode(() => dec2.push(bad.subarray(bad.length - 1)), 'bad_frame');
  throwsCode(() => dec2.push(bytes()), 'bad_frame');
});

test('FrameDecoder fails rather than lose sync when a frame handler throws', () => {
  const dec = new FrameDecoder();
  const two = Uint8Array.from([...encodePing(bytes(1)), ...encodePing(bytes(2))]);
  assert.throws(() => dec.feed(two, () => {
    throw new Error('handler');
  }), /handler/);
  throwsCode(() => dec.push(bytes()), 'bad_frame');
});
