// The SDK's transports as the resilience suite sees them: how to connect a client to a test
// relay, and a path to the relay that the test can take down and bring back — a TCP proxy for
// the WebSocket transport, a UDP link emulator for QUIC. Every suite test runs once per kit.
import assert from 'node:assert/strict';
import { UdpLinkEmulator } from '@fastpubsub/testkit';
import { connect as connectWs, type Client, type ConnectOptions } from '../src/node.js';
import { connect as connectQuic, type QuicConnectOptions } from '../src/quic.js';
import { startProxy, type TestRelay } from './helpers.js';

/** A path between client and relay that a test can cut. */
export interface CuttablePath {
  /** Takes the path down: current connections die, new ones fail until up(). */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export type ClientOptions = Omit<ConnectOptions, 'endpoint' | 'bootstrap'>;

export interface TransportKit {
  readonly name: 'ws' | 'quic';
  /** Options a test adds so a silently dead path is noticed quickly on this transport. */
  readonly fastDetection: ClientOptions;
  /** A client of `r`, straight or through `path`. */
  connect(r: TestRelay, options: ClientOptions, path?: CuttablePath): Promise<Client>;
  /** A cuttable path to `r`. */
  path(r: TestRelay): Promise<CuttablePath>;
}

const proxies = new WeakMap<CuttablePath, string>();
const emulators = new WeakMap<CuttablePath, number>();

const wsKit: TransportKit = {
  name: 'ws',
  // A cut TCP connection is reset by the proxy: the socket's close says so at once.
  fastDetection: {},
  connect(r, options, path) {
    const endpoint = path === undefined ? r.relay.httpUrl : proxies.get(path);
    assert.ok(endpoint !== undefined, 'a path made by this kit');
    return connectWs({ endpoint, ...options });
  },
  async path(r) {
    const proxy = await startProxy(r.relay.port);
    const path: CuttablePath = {
      down() {
        proxy.blocked = true;
        proxy.cut();
      },
      up() {
        proxy.blocked = false;
      },
      close: () => proxy.close(),
    };
    proxies.set(path, proxy.url);
    return path;
  },
};

function quicOf(r: TestRelay, port?: number): NonNullable<QuicConnectOptions['quic']> {
  const quicPort = r.relay.quicPort;
  const caPem = r.relay.quicCaPem;
  assert.ok(quicPort !== undefined && caPem !== undefined, 'the relay runs its QUIC edge with a generated certificate');
  return { port: port ?? quicPort, caPem };
}

const quicKit: TransportKit = {
  name: 'quic',
  // A silent UDP cut (no CONNECTION_CLOSE reaches either side) is noticed only by the SDK's
  // PING/PONG probe (QUIC's own idle timeout is 10 s) and bounded open attempts.
  fastDetection: { ping: { intervalMs: 200, timeoutMs: 1000 }, openTimeoutMs: 1000 },
  connect(r, options, path) {
    const port = path === undefined ? undefined : emulators.get(path);
    return connectQuic({ endpoint: r.relay.httpUrl, quic: quicOf(r, port), ...options });
  },
  async path(r) {
    const emu = await UdpLinkEmulator.start({
      a: { host: '127.0.0.1', port: 0 }, // the client: reached through the NAT-style session, never dialled
      b: { host: '127.0.0.1', port: quicOf(r).port! },
    });
    const path: CuttablePath = {
      down: () => emu.setDown(true),
      up: () => emu.setDown(false),
      close: () => emu.close(),
    };
    emulators.set(path, emu.addressForA.port);
    return path;
  },
};

export const TRANSPORT_KITS: readonly TransportKit[] = [wsKit, quicKit];
