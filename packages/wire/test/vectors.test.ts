// Runs every vector in spec/vectors/*.json (the shared vectors other SDKs reuse) against this
// implementation: valid vectors decode to `fields` and, unless "encode": false, encode back to
// the same bytes; invalid vectors throw a WireError with the expected code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as wire from '@fastpubsub/wire';
import { WireError, type Frame } from '@fastpubsub/wire';

interface Vector {
  name: string;
  kind: string;
  hex?: string;
  append_zeros?: number;
  text?: string;
  input?: string;
  fields?: Record<string, unknown>;
  frames?: { type: number; topic: string; payload: string }[];
  max_payload?: number;
  error?: string;
  encode?: boolean;
}

interface VectorFile {
  schema: string;
  suite: string;
  vectors: Vector[];
}

const dir = new URL('../../../spec/vectors/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

function bytesOf(v: Vector): Uint8Array {
  const head = fromHex(v.hex ?? '');
  if (v.append_zeros === undefined) return head;
  const out = new Uint8Array(head.length + v.append_zeros);
  out.set(head);
  return out;
}

// Byte-valued fields are hex in JSON; turn decoded Uint8Arrays into hex to compare.
const BYTE_FIELDS = new Set(['payload', 'data', 'nonce']);
function jsonish(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(value)) out[k] = x instanceof Uint8Array ? toHex(x) : x;
  return out;
}
function unhex(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(fields)) out[k] = BYTE_FIELDS.has(k) && typeof x === 'string' ? fromHex(x) : x;
  return out;
}

type Codec = { decode: (f: Frame<number>) => object; encode: (x: never) => Uint8Array };
const native: Record<string, Codec> = {
  AUTH: { decode: wire.decodeAuth, encode: wire.encodeAuth },
  SUB: { decode: wire.decodeSub, encode: wire.encodeSub },
  UNSUB: { decode: wire.decodeUnsub, encode: wire.encodeUnsub },
  PUB: { decode: wire.decodePub, encode: wire.encodePub },
  MSG: { decode: wire.decodeMsg, encode: wire.encodeMsg },
  OK: { decode: wire.decodeOk, encode: wire.encodeOk },
  ERR: { decode: wire.decodeErr, encode: wire.encodeErr },
  PING: { decode: (f) => ({ nonce: wire.decodePing(f) }), encode: (x: { nonce: Uint8Array }) => wire.encodePing(x.nonce) },
  PONG: { decode: (f) => ({ nonce: wire.decodePong(f) }), encode: (x: { nonce: Uint8Array }) => wire.encodePong(x.nonce) },
  DMSG: { decode: wire.decodeDmsg, encode: wire.encodeDmsg },
  PRESENCE: { decode: wire.decodePresenceRequest, encode: wire.encodePresenceRequest },
  PRESENCE_INFO: { decode: wire.decodePresenceInfo, encode: wire.encodePresenceInfo },
  frame: { decode: (f) => f, encode: (x: { type: number; topic: string; payload: Uint8Array }) => wire.encodeFrame(x.type, x.topic, x.payload) },
};

/** Decodes a vector; returns [decoded fields as JSON, re-encoded form or undefined]. */
function run(v: Vector): [unknown, (() => string) | undefined] {
  const codec = native[v.kind];
  if (codec !== undefined) {
    const decoded = jsonish(codec.decode(wire.decodeFrame(bytesOf(v))));
    return [decoded, () => toHex(codec.encode(unhex(v.fields ?? {}) as never))];
  }
  switch (v.kind) {
    case 'stream': {
      const frames: unknown[] = [];
      const dec = new wire.FrameDecoder(v.max_payload === undefined ? undefined : { maxPayload: v.max_payload });
      try {
        dec.feed(bytesOf(v), (f) => frames.push(jsonish(f)));
      } catch (err) {
        assert.deepEqual(frames, v.frames, 'frames before the error');
        throw err;
      }
      return [frames, undefined];
    }
    case 'publish': {
      const p = wire.decodePublish(bytesOf(v));
      const f = unhex(v.fields ?? {});
      const input = { tenant: f.tenant as string, channel: f.channel as string, payload: f.payload as Uint8Array };
      return [jsonish(p), () => toHex(wire.encodePublish(f.version === 1 ? input : { ...input, mode: f.mode as 0 | 1 | 2 }))];
    }
    case 'delivery': {
      const f = unhex(v.fields ?? {});
      return [
        jsonish(wire.decodeDelivery(bytesOf(v))),
        () => toHex(wire.encodeDelivery(f.tenant as string, f.channel as string, f.payload as Uint8Array, f.patterns as string[])),
      ];
    }
    case 'client-text': {
      const c = wire.parseClientText(v.text ?? '');
      return [c, () => (c.kind === 'PING' ? wire.PING : c.kind === 'SUB' ? wire.formatSub(c.tenant, c.pattern, { latest: c.latest === true }) : wire.formatUnsub(c.tenant, c.pattern))];
    }
    case 'server-text': {
      const s = wire.parseServerText(v.text ?? '');
      return [
        s,
        () => {
          switch (s.kind) {
            case 'OK': return wire.formatOk(s.op, s.tenant, s.pattern);
            case 'ERR': return wire.formatErr(s.code, s.detail);
            case 'PONG': return wire.PONG;
            case 'RECONNECT': return wire.RECONNECT;
            case 'unknown': return s.text;
          }
        },
      ];
    }
    case 'tenant': wire.validateTenant(v.input ?? ''); return [undefined, undefined];
    case 'channel': wire.validateChannel(v.input ?? ''); return [undefined, undefined];
    case 'pattern': wire.validatePattern(v.input ?? ''); return [undefined, undefined];
    default:
      throw new Error(`unknown vector kind ${v.kind}`);
  }
}

test('spec/vectors holds the expected suites', () => {
  assert.deepEqual(files, ['delivery.json', 'names.json', 'native-frames.json', 'native-stream.json', 'presence-frames.json', 'publish.json', 'text.json']);
});

for (const file of files) {
  test(`vectors: ${file}`, () => {
    const doc = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as VectorFile;
    assert.equal(doc.schema, 'fastpubsub-vectors/1');
    assert.ok(doc.vectors.length > 0);
    for (const v of doc.vectors) {
      const label = `${file}: ${v.name}`;
      if (v.error !== undefined) {
        assert.throws(() => run(v), (err: unknown) => err instanceof WireError && err.code === v.error, label);
        continue;
      }
      const [decoded, encode] = run(v);
      if (v.kind === 'stream') assert.deepEqual(decoded, v.frames, label);
      else if (v.fields !== undefined) assert.deepEqual(decoded, v.fields, label);
      if (encode !== undefined && v.encode !== false) {
        const expected = v.text ?? v.hex;
        assert.equal(encode(), expected, `${label} (encode)`);
      }
    }
  });
}
