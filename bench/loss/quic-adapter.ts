// FastPubSub's QUIC edge as a benchmark broker: a thin client over @fastpubsub/quic speaking the
// native frames of spec/protocol.md directly (AUTH, SUB, PUB, PING/PONG on the control stream;
// OK then MSG on the subscription's own unidirectional stream), codecs from @fastpubsub/wire.
// Like the WebSocket adapter it bypasses the SDK, so the numbers measure the relay's edge.
// Every subscriber and the publisher get their own connection, as on the other brokers.
import { LOW_LATENCY_TRANSPORT, QuicEndpoint, type QuicConnection, type QuicStream } from '@fastpubsub/quic';
import {
  FrameDecoder,
  PublishMode,
  decodeErr,
  decodeOk,
  encodeAuth,
  encodePing,
  encodePub,
  encodeSub,
  type Frame,
} from '@fastpubsub/wire';
import type { BrokerAdapter, Closeable, OnPayload, Publisher, RunningBroker } from '../fanout/adapter.js';
import { CHANNEL, TENANT, type RelayQuicEdge, type RunningRelay } from '../fanout/fastpubsub-adapter.js';

export class QuicEdgeUnavailable extends Error {}

const ALPN = 'fastpubsub/1';
const PATTERN = 'bench.#';
// spec/protocol.md §3 frame types.
const T = { OK: 0x06, ERR: 0x07, PONG: 0x09, MSG: 0x05 } as const;
const HANDSHAKE_TIMEOUT_MS = 20_000; // a few lost Initial packets at 10 % loss cost PTOs of ~1 s

/** The QUIC edge of an already running relay (started by the fan-out adapter's startRelay). */
export function startQuicEdge(relay: RunningRelay): Promise<RunningBroker> {
  const edge = relay.quic;
  if (edge === undefined) return Promise.reject(new QuicEdgeUnavailable('the relay printed no QUIC edge address (no QUIC edge in this build, or quic.enabled is false)'));
  // The SDK's QUIC client uses the same preset (the publisher is the sender on the PUB path).
  const endpoint = new QuicEndpoint({ host: '127.0.0.1', port: 0, transport: LOW_LATENCY_TRANSPORT });
  return Promise.resolve({
    name: 'fastpubsub-quic',
    pid: relay.pid,
    adapter: quicAdapter(endpoint, edge),
    slowConsumerCount: () => relay.slowConsumerCount(),
    output: () => relay.output(),
    // The relay process belongs to the WebSocket row's broker; only the client endpoint is ours.
    stop: () => endpoint.close(0, 'bench done'),
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`quic: ${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A connection with an authenticated control stream; control frames other than OK/ERR go to `onControl`. */
interface Session {
  conn: QuicConnection;
  control: QuicStream;
  /** Resolves with the OK for request `id` (0: AUTH), rejects with its ERR. */
  expect(id: number): Promise<void>;
  onPong: (() => void)[];
  close(): Promise<void>;
}

async function openSession(endpoint: QuicEndpoint, edge: RelayQuicEdge): Promise<Session> {
  const conn = await withTimeout(endpoint.connect({ host: edge.host, port: edge.port, alpn: [ALPN], caPem: edge.caPem, serverName: '127.0.0.1' }), HANDSHAKE_TIMEOUT_MS, 'handshake');
  const control = conn.openBidiStream();
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const onPong: (() => void)[] = [];
  const decoder = new FrameDecoder();
  control.on('data', (chunk) => {
    decoder.feed(chunk, (f: Frame) => {
      if (f.type === T.OK) {
        const ok = decodeOk(f);
        waiting.get(ok.id)?.resolve();
        waiting.delete(ok.id);
      } else if (f.type === T.ERR) {
        const err = decodeErr(f);
        const w = waiting.get(err.id);
        if (w !== undefined) { waiting.delete(err.id); w.reject(new Error(`quic: ERR ${err.code} ${err.detail}`)); }
        else process.stderr.write(`bench: relay QUIC edge said ERR ${err.code} ${err.detail}\n`);
      } else if (f.type === T.PONG) {
        onPong.shift()?.();
      }
    });
  });
  control.on('close', () => undefined);
  const expect = (id: number): Promise<void> =>
    withTimeout(new Promise<void>((resolve, reject) => waiting.set(id, { resolve, reject })), HANDSHAKE_TIMEOUT_MS, `OK for request ${id}`);
  const authed = expect(0);
  control.write(encodeAuth({ token: edge.token }));
  await authed;
  return {
    conn, control, expect, onPong,
    close: async () => {
      if (conn.isClosed) return;
      const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()));
      conn.close(0, 'bye');
      await withTimeout(closed, 3000, 'close').catch(() => undefined);
    },
  };
}

function quicAdapter(endpoint: QuicEndpoint, edge: RelayQuicEdge): BrokerAdapter {
  let malformed = 0;
  /** SUB id 1 on a fresh connection; `onPayload` undefined: the stream is paused for good once bound. */
  const subscribe = async (onPayload: OnPayload | undefined): Promise<Session> => {
    const s = await openSession(endpoint, edge);
    const bound = new Promise<void>((resolve) => {
      s.conn.on('stream', (stream) => {
        if (stream.writable) return; // subscription streams are the relay's unidirectional ones
        const decoder = new FrameDecoder();
        let gotOk = false;
        stream.on('data', (chunk) => {
          try {
            decoder.feed(chunk, (f: Frame) => {
              if (f.type === T.MSG) { onPayload?.(f.payload, 0); return; }
              if (f.type === T.OK && !gotOk) {
                gotOk = true;
                resolve();
                if (onPayload === undefined) stream.pause(); // the stalled subscriber: stop reading
                return;
              }
              malformed++;
            });
          } catch {
            malformed++;
          }
        });
        stream.on('reset', () => undefined);
        stream.on('close', () => undefined);
      });
    });
    const ok = s.expect(1);
    s.control.write(encodeSub({ id: 1, flags: 0, tenant: TENANT, pattern: PATTERN }));
    await ok;
    await withTimeout(bound, HANDSHAKE_TIMEOUT_MS, 'subscription stream');
    return s;
  };
  return {
    name: 'fastpubsub-quic',
    async subscriber(onPayload): Promise<Closeable> {
      const s = await subscribe(onPayload);
      return { close: () => s.close() };
    },
    async stalledSubscriber(): Promise<Closeable> {
      const s = await subscribe(undefined);
      return { close: () => s.close() };
    },
    async publisher(): Promise<Publisher> {
      const s = await openSession(endpoint, edge);
      let batch: Uint8Array[] | undefined;
      let nonce = 0;
      return {
        publish: (payload) => {
          const frame = encodePub({ mode: PublishMode.BROADCAST, tenant: TENANT, channel: CHANNEL, data: payload });
          if (batch !== undefined) batch.push(frame);
          else s.control.write(frame);
        },
        // One writev per burst: the binding then hands QUIC one buffer (STYLE §4).
        burst: (fn) => {
          batch = [];
          try { fn(); } finally {
            const b = batch;
            batch = undefined;
            if (b.length > 0) s.control.writev(b);
          }
        },
        roundTrip: () => {
          const n = new Uint8Array(4);
          new DataView(n.buffer).setUint32(0, ++nonce);
          const pong = new Promise<void>((resolve) => s.onPong.push(resolve));
          s.control.write(encodePing(n));
          return withTimeout(pong, 30_000, 'PONG');
        },
        close: async () => {
          if (malformed > 0) process.stderr.write(`bench: ${malformed} unexpected frames on QUIC subscription streams\n`);
          await s.close();
        },
      };
    },
  };
}
