// Mesh frames (spec §8): the shared vectors in spec/vectors/mesh/, stream decoding at every
// split, and garbage that must fail with a WireError, never anything else.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import * as w from '@fastpubsub/wire';
import { WireError, type Frame } from '@fastpubsub/wire';

interface Vector {
  name: string;
  kind: string;
  hex: string;
  fields?: Record<string, unknown>;
  error?: string;
}
const file = JSON.parse(readFileSync(new URL('../../../spec/vectors/mesh/mesh-frames.json', import.meta.url), 'utf8')) as { vectors: Vector[] };
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

function decode(kind: string, bytes: Uint8Array): Record<string, unknown> {
  const frames: Frame<number>[] = w.createMeshDecoder().push(bytes);
  assert.equal(frames.length, 1, 'exactly one frame');
  const f = frames[0]!;
  switch (kind) {
    case 'PROBE':
      return { ...w.decodeProbe(f) };
    case 'HELLO':
      return { ...w.decodeHello(f) };
    case 'INTEREST':
      return { ...w.decodeInterest(f) };
    case 'PEERS':
      return { peers: w.decodePeers(f) };
    case 'FWD': {
      const d = w.decodeFwd(f);
      return { ...d, id: toHex(d.id), data: toHex(d.data), dests: [...d.dests] };
    }
    case 'PRESENCE':
      return { ...w.decodePresence(f) };
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

function encode(kind: string, x: Record<string, unknown>): Uint8Array {
  switch (kind) {
    case 'PROBE':
      return w.encodeProbe(x as unknown as w.ProbeFrame);
    case 'HELLO':
      return w.encodeHello(x as unknown as w.HelloFrame);
    case 'INTEREST':
      return w.encodeInterest(x as unknown as w.InterestFrame);
    case 'PEERS':
      return w.encodePeers(x['peers'] as w.PeerEntry[]);
    case 'FWD':
      return w.encodeFwd({ ...(x as unknown as w.FwdFrame), id: fromHex(x['id'] as string), data: fromHex(x['data'] as string) });
    case 'PRESENCE':
      return w.encodePresence(x as unknown as w.PresenceFrame);
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

describe('mesh frames: vectors', () => {
  for (const v of file.vectors) {
    it(`${v.kind}: ${v.name}`, () => {
      const bytes = fromHex(v.hex);
      if (v.error !== undefined) {
        assert.throws(() => decode(v.kind, bytes), (e: unknown) => e instanceof WireError && e.code === v.error);
        return;
      }
      assert.deepEqual(decode(v.kind, bytes), v.fields);
      assert.equal(toHex(encode(v.kind, v.fields!)), v.hex);
    });
  }
});

describe('mesh frames: decoding', () => {
  const fwd: w.FwdFrame = {
    flags: 0,
    ttl: 5,
    mode: 0,
    id: new Uint8Array(16).fill(9),
    origin: 'tokyo',
    dests: ['frankfurt', 'singapore'],
    tenant: 'acme',
    channel: 'x'.repeat(256),
    data: new Uint8Array(65535).fill(7),
  };

  it('a 64 KiB FWD with a 256-byte channel round-trips through the stream decoder at any split', () => {
    const bytes = w.encodeFwd(fwd);
    for (const split of [1, 7, 1000, bytes.length - 1]) {
      const dec = w.createMeshDecoder();
      const frames = [...dec.push(bytes.subarray(0, split)), ...dec.push(bytes.subarray(split))];
      assert.equal(frames.length, 1);
      const d = w.decodeFwd(frames[0]!);
      assert.equal(d.channel, fwd.channel);
      assert.deepEqual(d.dests, fwd.dests);
      assert.equal(d.data.length, 65535);
    }
  });

  it('refuses data over 64 KiB, a bad relay id and client frame types', () => {
    assert.throws(() => w.encodeFwd({ ...fwd, data: new Uint8Array(65536) }), (e: unknown) => e instanceof WireError && e.code === 'payload_too_large');
    assert.throws(() => w.encodeFwd({ ...fwd, dests: ['bad id'] }), WireError);
    assert.throws(() => w.createMeshDecoder().push(w.encodePing(new Uint8Array(0))), (e: unknown) => e instanceof WireError && e.code === 'bad_frame');
  });

  it('garbage payloads fail with WireError only', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0x40, max: 0x46 }), fc.uint8Array({ maxLength: 200 }), (type, payload) => {
        const frame: Frame<number> = { type, topic: type === 0x43 || type === 0x45 || type === 0x46 || type <= 0x42 ? '' : 'r1', payload };
        for (const fn of [w.decodeProbe, w.decodeHello, w.decodeInterest, w.decodePeers, w.decodeFwd, w.decodeRoute]) {
          try {
            fn(frame);
          } catch (e) {
            if (!(e instanceof WireError)) throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
