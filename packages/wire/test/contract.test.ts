import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PING,
  PONG,
  RECONNECT,
  WireError,
  decodeDelivery,
  decodePublish,
  encodeDelivery,
  encodeDeliveryHead,
  encodeDeliveryTail,
  encodePublish,
  formatErr,
  formatOk,
  formatSub,
  formatUnsub,
  parseClientText,
  parseServerText,
} from '@fastpubsub/wire';

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof WireError && err.code === code);
}

test('publish v1 and v2 encode and decode', () => {
  const v1 = encodePublish({ tenant: 't1', channel: 'a.b', payload: enc('xyz') });
  assert.equal(hex(v1), '0002' + '7431' + '0003' + '612e62' + '78797a');
  assert.deepEqual(decodePublish(v1), { version: 1, mode: 0, tenant: 't1', channel: 'a.b', payload: enc('xyz') });
  const v2 = encodePublish({ tenant: 't1', channel: 'a.b', payload: new Uint8Array(0), mode: 1 });
  assert.equal(hex(v2), '0201' + '0002' + '7431' + '0003' + '612e62');
  assert.deepEqual(decodePublish(v2), { version: 2, mode: 1, tenant: 't1', channel: 'a.b', payload: new Uint8Array(0) });
  // The payload is a view, not a copy.
  assert.equal(decodePublish(v1).payload.buffer, v1.buffer);
});

test('publish limits: 65535-byte payload passes, 65536 is payload_too_large', () => {
  const max = encodePublish({ tenant: 't', channel: 'c', payload: new Uint8Array(65535) });
  assert.equal(decodePublish(max).payload.length, 65535);
  const over = Uint8Array.from([...fromHex('0001 74 0001 63'), ...new Uint8Array(65536)]);
  throwsCode(() => decodePublish(over), 'payload_too_large');
  throwsCode(() => encodePublish({ tenant: 't', channel: 'c', payload: new Uint8Array(65536) }), 'payload_too_large');
});

test('publish errors map to contract codes', () => {
  throwsCode(() => decodePublish(fromHex('')), 'bad_frame');
  throwsCode(() => decodePublish(fromHex('01 0002 7431 0001 61')), 'bad_frame');
  throwsCode(() => decodePublish(fromHex('0000 0001 61')), 'bad_frame');
  throwsCode(() => decodePublish(fromHex('0002 7431 0000')), 'bad_frame');
  throwsCode(() => decodePublish(fromHex('0002 7431 0005 61')), 'bad_frame');
  throwsCode(() => decodePublish(fromHex('0002 74')), 'bad_frame');
  throwsCode(() => decodePublish(fromHex('0002 c328 0001 61')), 'bad_frame');
  throwsCode(() => decodePublish(fromHex('0203 0002 7431 0001 61')), 'bad_frame');
  throwsCode(() => decodePublish(fromHex('02')), 'bad_frame');
  throwsCode(() => decodePublish(fromHex('0002 7431 0003 612e2a')), 'invalid_name');
  throwsCode(() => decodePublish(Uint8Array.from([0, 129, ...new Uint8Array(129).fill(0x61), 0, 1, 0x61])), 'invalid_name');
  throwsCode(() => encodePublish({ tenant: 't', channel: 'a.#', payload: new Uint8Array(0) }), 'invalid_name');
});

test('delivery: the contract example, head + tail, strict decode', () => {
  const example = '01 0002 7431 0005 612e622e63 00000003 78797a 0002 0003 612e23 0005 612e622e2a'.replace(/ /g, '');
  const d = encodeDelivery('t1', 'a.b.c', enc('xyz'), ['a.#', 'a.b.*']);
  assert.equal(hex(d), example);
  assert.equal(hex(encodeDeliveryHead('t1', 'a.b.c', enc('xyz'))) + hex(encodeDeliveryTail(['a.#', 'a.b.*'])), example);
  assert.deepEqual(decodeDelivery(d), { tenant: 't1', channel: 'a.b.c', payload: enc('xyz'), patterns: ['a.#', 'a.b.*'] });
  throwsCode(() => decodeDelivery(Uint8Array.from([...d, 0])), 'bad_frame');
  for (let n = 0; n < d.length; n++) throwsCode(() => decodeDelivery(d.subarray(0, n)), 'bad_frame');
  throwsCode(() => decodeDelivery(fromHex('02' + example.slice(2))), 'bad_frame');
  throwsCode(() => decodeDelivery(fromHex('01 0002 7431 0001 61 00000000 0000')), 'bad_frame');
  throwsCode(() => decodeDelivery(fromHex('01 0000 0001 61 00000000 0001 0001 61')), 'bad_frame');
  throwsCode(() => decodeDelivery(fromHex('01 0002 7431 0001 61 00000000 0001 0001 ff')), 'bad_frame');
  throwsCode(() => encodeDeliveryTail([]), 'bad_frame');
  throwsCode(() => encodeDelivery('t', '', new Uint8Array(0), ['a']), 'bad_frame');
});

test('client text commands', () => {
  assert.deepEqual(parseClientText('SUB:t1:a.#'), { kind: 'SUB', tenant: 't1', pattern: 'a.#' });
  assert.deepEqual(parseClientText('UNSUB:t1:a:b'), { kind: 'UNSUB', tenant: 't1', pattern: 'a:b' });
  assert.deepEqual(parseClientText('SUB::'), { kind: 'SUB', tenant: '', pattern: '' });
  assert.deepEqual(parseClientText('PING'), { kind: 'PING' });
  for (const bad of ['PING 42', 'SUB:t1', 'sub:t1:a', 'PONG', '', 'SUB', 'UNSUB:x', ' PING']) throwsCode(() => parseClientText(bad), 'bad_command');
  assert.equal(formatSub('t1', 'a.#'), 'SUB:t1:a.#');
  assert.equal(formatUnsub('t1', 'a.#'), 'UNSUB:t1:a.#');
  assert.equal(formatOk('SUB', 't1', 'a.#'), 'OK:SUB:t1:a.#');
  assert.equal(formatErr('permission_denied'), 'ERR:permission_denied');
  assert.equal(formatErr('permission_denied', 'SUB:t1:x.#'), 'ERR:permission_denied:SUB:t1:x.#');
  assert.deepEqual([PING, PONG, RECONNECT], ['PING', 'PONG', 'RECONNECT']);
});

test('server text parsing (SDK side)', () => {
  assert.deepEqual(parseServerText('OK:SUB:t1:a.#'), { kind: 'OK', op: 'SUB', tenant: 't1', pattern: 'a.#' });
  assert.deepEqual(parseServerText('OK:UNSUB: t1 : a.# '), { kind: 'OK', op: 'UNSUB', tenant: 't1', pattern: 'a.#' });
  assert.deepEqual(parseServerText('PONG'), { kind: 'PONG' });
  assert.deepEqual(parseServerText('RECONNECT'), { kind: 'RECONNECT' });
  assert.deepEqual(parseServerText('ERR:bad_frame'), { kind: 'ERR', code: 'bad_frame' });
  assert.deepEqual(parseServerText('ERR:permission_denied:SUB:t:x'), { kind: 'ERR', code: 'permission_denied', detail: 'SUB:t:x' });
  assert.deepEqual(parseServerText('OK:SUB:nocolon'), { kind: 'unknown', text: 'OK:SUB:nocolon' });
  assert.deepEqual(parseServerText('PING'), { kind: 'unknown', text: 'PING' });
});
