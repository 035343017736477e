// The mesh transport: one QUIC endpoint per relay that accepts peers (mutual TLS against the
// mesh CA, ALPN fastpubsub-mesh/1) and dials the addresses discovery offers, keeps at most one
// link per peer, and redials lost peers with backoff. A peer's identity is the relay id in its
// certificate; its HELLO must name the same id.
import { EventEmitter } from 'node:events';
import { QuicEndpoint, type QuicTransportOptions } from '@fastpubsub/quic';
import type { MeshConnection, MeshStream } from './conn.js';
import type { Logger } from '@fastpubsub/core';
import { MeshFrameType, createMeshDecoder, decodeHello, encodeHello, type Frame, type FrameDecoder, type HelloFrame } from '@fastpubsub/wire';
import type { LinkHealthOptions } from '../route/index.js';
import type { MeshDiscovery } from './discovery.js';
import { MeshLink, RESEND_WINDOW_MS } from './link.js';
import { dialMeshWs, listenMeshWs } from './ws-conn.js';
import { MESH_SERVER_NAME, agentTenantOf, relayIdOf, type MeshCredentials } from './pki.js';

export const MESH_ALPN = 'fastpubsub-mesh/1';

/** Application close codes on mesh connections. */
export const MeshCloseCode = { DUPLICATE: 0x01, IDENTITY: 0x02, SHUTDOWN: 0x03, HELLO_TIMEOUT: 0x04, PROBE: 0x05 } as const;

export interface MeshTransportOptions {
  credentials: MeshCredentials;
  host: string;
  port: number;
  /** host:port other relays can dial us at (sent in HELLO for peer exchange). */
  advertise?: string;
  discovery: MeshDiscovery;
  probeIntervalMs: number;
  health?: LinkHealthOptions;
  linkQueueBytes: number;
  now: () => number;
  logger: Logger;
  /** Boot epoch sent in HELLO. */
  boot: number;
  /** An edge agent: dial only, accept nothing (no server side on the endpoint). */
  outboundOnly?: boolean;
  /** Also serve the mesh over WebSocket on TLS, TCP, same host and port number (for agents without UDP). */
  tcpListen?: boolean;
}

export interface MeshTransportEvents {
  link: [link: MeshLink];
  unlink: [link: MeshLink];
}

const HELLO_TIMEOUT_MS = 3000;
const DIAL_TICK_MS = 200;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 2000;

// Mesh connections are long-lived and must notice a dead peer quickly even without probes.
const TRANSPORT: QuicTransportOptions = { keepAliveIntervalMs: 1000, idleTimeoutMs: 5000 };

interface DialState {
  inFlight: boolean;
  nextAt: number;
  backoff: number;
  /** Who answered at this address last time. */
  id?: string;
}

export class MeshTransport extends EventEmitter<MeshTransportEvents> {
  readonly self: string;
  readonly #o: MeshTransportOptions;
  readonly #links = new Map<string, MeshLink>();
  readonly #dial = new Map<string, DialState>();
  /** FWD frames a lost or replaced link may not have delivered, waiting for the next link to that peer. */
  readonly #carry = new Map<string, { frames: Uint8Array[]; until: number; boot: number }>();
  #endpoint: QuicEndpoint | undefined;
  #wsListener: { port: number; close(): Promise<void> } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Handshakes refused (bad certificate, wrong identity): counted for metrics and tests. */
  refused = 0;

  constructor(o: MeshTransportOptions) {
    super();
    this.#o = o;
    this.self = o.credentials.id;
  }

  get address(): { host: string; port: number } {
    if (this.#endpoint === undefined) throw new Error('mesh transport not started');
    return this.#endpoint.address;
  }

  links(): ReadonlyMap<string, MeshLink> {
    return this.#links;
  }

  start(): void {
    const c = this.#o.credentials;
    const ep = new QuicEndpoint({
      host: this.#o.host,
      port: this.#o.port,
      ...(this.#o.outboundOnly === true ? {} : { server: { certPem: c.certPem, keyPem: c.keyPem, alpn: [MESH_ALPN], clientCaPem: c.caPem, requireClientCert: true } }),
      transport: TRANSPORT,
      closeTimeoutMs: 500,
    });
    this.#endpoint = ep;
    ep.on('connection', (conn) => this.#accepted(conn));
    ep.on('handshakeError', (f) => {
      this.refused++;
      this.#o.logger.warn('mesh handshake refused', { remote: f.remoteAddress, reason: f.reason });
    });
    this.#timer = setInterval(() => this.#dialTick(), DIAL_TICK_MS);
    this.#dialTick();
    if (this.#o.tcpListen === true && this.#o.outboundOnly !== true) void this.#listenTcp(ep.address.port);
  }

  /** The mesh over WebSocket on TLS for agents whose network drops UDP (ws-conn.ts). */
  async #listenTcp(port: number): Promise<void> {
    try {
      this.#wsListener = await listenMeshWs(this.#o.host, port, this.#o.credentials, (conn) => this.#accepted(conn), (reason) => {
        this.refused++;
        this.#o.logger.warn('mesh handshake refused', { over: 'tcp', reason });
      });
      if (this.#closed) await this.#wsListener.close();
    } catch (err) {
      this.#o.logger.warn('mesh: no TCP listener for agents without UDP', { port, err: err instanceof Error ? err.message : String(err) });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const l of [...this.#links.values()]) l.close(MeshCloseCode.SHUTDOWN, 'shutdown');
    await this.#wsListener?.close();
    await this.#endpoint?.close(MeshCloseCode.SHUTDOWN, 'shutdown');
  }

  /**
   * One probe of a relay at `addr` from this endpoint (so it takes the tunnel's own path): a
   * QUIC handshake with our certificate, closed at once. The relay id its certificate names and
   * quinn's RTT of the handshake; rejects after `timeoutMs` or when the peer is no relay.
   */
  async probe(addr: string, timeoutMs: number, over?: 'tcp'): Promise<{ id: string; rttMs: number }> {
    const ep = this.#endpoint;
    if (ep === undefined) throw new Error('mesh transport not started');
    const c = this.#o.credentials;
    const i = addr.lastIndexOf(':');
    if (over === 'tcp') return this.#probeTcp(addr.slice(0, i).replace(/^\[|\]$/g, ''), Number(addr.slice(i + 1)), timeoutMs);
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    const started = this.#o.now();
    try {
      const connecting = ep.connect({
        host: addr.slice(0, i).replace(/^\[|\]$/g, ''),
        port: Number(addr.slice(i + 1)),
        serverName: MESH_SERVER_NAME,
        alpn: [MESH_ALPN],
        caPem: c.caPem,
        certPem: c.certPem,
        keyPem: c.keyPem,
        signal: ctl.signal,
      });
      // An aborted connect settles only once quinn has closed it; the probe does not wait for that.
      connecting.catch(() => undefined);
      const timedOut = new Promise<never>((_, reject) => ctl.signal.addEventListener('abort', () => reject(new Error('probe timed out')), { once: true }));
      const conn = await Promise.race([connecting, timedOut]);
      const rttMs = conn.stats()?.rttMs ?? this.#o.now() - started;
      const id = conn.peerX509 === undefined ? undefined : relayIdOf(conn.peerX509);
      // Not a link: the peer sees a connection that never opens a control stream.
      conn.close(MeshCloseCode.PROBE, 'probe');
      if (id === undefined) throw new Error('not a relay certificate');
      return { id, rttMs };
    } finally {
      clearTimeout(timer);
    }
  }

  /** A probe over TCP: the time to open the mesh WebSocket (TCP, TLS and upgrade: about three RTTs). */
  async #probeTcp(host: string, port: number, timeoutMs: number): Promise<{ id: string; rttMs: number }> {
    const started = this.#o.now();
    const conn = await dialMeshWs(host, port, this.#o.credentials, MESH_SERVER_NAME, timeoutMs);
    const rttMs = (this.#o.now() - started) / 3;
    const id = conn.peerX509 === undefined ? undefined : relayIdOf(conn.peerX509);
    conn.close(MeshCloseCode.PROBE, 'probe');
    if (id === undefined) throw new Error('not a relay certificate');
    return { id, rttMs };
  }

  /** Closes the link to `peer` (an agent leaving a PoP it moved away from); not redialed unless discovery offers it. */
  closePeer(peer: string, reason: string): void {
    this.#links.get(peer)?.close(MeshCloseCode.SHUTDOWN, reason);
  }

  #dialTick(): void {
    if (this.#closed) return;
    const now = this.#o.now();
    for (const [peer, c] of this.#carry) if (c.until < now) this.#carry.delete(peer);
    for (const cand of this.#o.discovery.candidates()) {
      let st = this.#dial.get(cand.addr);
      if (st === undefined) this.#dial.set(cand.addr, (st = { inFlight: false, nextAt: 0, backoff: BACKOFF_MIN_MS }));
      const id = st.id ?? cand.id;
      if (id === this.self || st.inFlight || now < st.nextAt) continue;
      if (id !== undefined && this.#links.has(id)) continue;
      st.inFlight = true;
      void this.#dialOnce(cand.addr, st, cand.over);
    }
  }

  async #dialOnce(addr: string, st: DialState, over: 'tcp' | undefined): Promise<void> {
    const i = addr.lastIndexOf(':');
    const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(addr.slice(i + 1));
    const c = this.#o.credentials;
    let conn: MeshConnection | undefined;
    try {
      conn =
        over === 'tcp'
          ? await dialMeshWs(host, port, c, MESH_SERVER_NAME, HELLO_TIMEOUT_MS)
          : await this.#endpoint!.connect({ host, port, serverName: MESH_SERVER_NAME, alpn: [MESH_ALPN], caPem: c.caPem, certPem: c.certPem, keyPem: c.keyPem });
      const peer = this.#identity(conn);
      if (peer === undefined) return;
      st.id = peer;
      if (this.#live(peer) !== undefined) {
        // We learnt who is at this address only now, and we already have a link to it (the
        // peer dialed us first). Close before HELLO, so the peer never adopts this connection
        // and the link that already carries traffic is never replaced by a late duplicate.
        conn.close(MeshCloseCode.DUPLICATE, 'already linked');
        return;
      }
      // The peer may open its message stream as soon as it has our HELLO, before we have read
      // its reply: park such streams for the link instead of losing them.
      const early: MeshStream[] = [];
      const onStream = (s: MeshStream): void => void early.push(s);
      conn.on('stream', onStream);
      const control = conn.openBidiStream();
      control.write(this.#hello());
      let got: Hello;
      try {
        got = await readHello(control, conn);
      } finally {
        conn.off('stream', onStream);
      }
      this.#adopt(conn, control, got, peer, true, early);
      st.backoff = BACKOFF_MIN_MS;
    } catch (err) {
      conn?.close(MeshCloseCode.HELLO_TIMEOUT, 'handshake failed');
      this.#o.logger.debug('mesh dial failed', { addr, err: err instanceof Error ? err.message : String(err) });
      st.backoff = Math.min(BACKOFF_MAX_MS, st.backoff * 2);
    } finally {
      st.inFlight = false;
      st.nextAt = this.#o.now() + st.backoff;
    }
  }

  #accepted(conn: MeshConnection): void {
    const peer = this.#identity(conn);
    if (peer === undefined) return;
    const timer = setTimeout(() => conn.close(MeshCloseCode.HELLO_TIMEOUT, 'no control stream'), HELLO_TIMEOUT_MS);
    conn.once('stream', (control) => {
      clearTimeout(timer);
      readHello(control, conn)
        .then((got) => {
          control.write(this.#hello());
          this.#adopt(conn, control, got, peer, false);
        })
        .catch(() => conn.close(MeshCloseCode.HELLO_TIMEOUT, 'bad hello'));
    });
  }

  /** The relay id in the peer's certificate (already verified against the CA by TLS). */
  #identity(conn: MeshConnection): string | undefined {
    const cert = conn.peerX509;
    const id = cert === undefined ? undefined : relayIdOf(cert);
    // An agent links only to PoPs: a peer that is itself an agent is refused.
    const agentToAgent = this.#o.credentials.agentTenant !== undefined && cert !== undefined && agentTenantOf(cert) !== undefined;
    if (id === undefined || id === this.self || agentToAgent) {
      if (id === undefined || agentToAgent) this.refused++;
      conn.close(MeshCloseCode.IDENTITY, id === undefined ? 'no relay identity in certificate' : agentToAgent ? 'agent to agent' : 'connected to self');
      return undefined;
    }
    return id;
  }

  #hello(): Uint8Array {
    return encodeHello({ id: this.self, boot: this.#o.boot, ...(this.#o.advertise === undefined ? {} : { addr: this.#o.advertise }) });
  }

  #live(peer: string): MeshLink | undefined {
    const l = this.#links.get(peer);
    return l === undefined || l.isClosed ? undefined : l;
  }

  #adopt(conn: MeshConnection, control: MeshStream, got: Hello, peer: string, dialed: boolean, early: MeshStream[] = []): void {
    const { hello, rest, decoder } = got;
    if (hello.id !== peer) {
      this.refused++;
      conn.close(MeshCloseCode.IDENTITY, 'HELLO names another relay than the certificate');
      return;
    }
    if (this.#closed) {
      conn.close(MeshCloseCode.SHUTDOWN, 'shutdown');
      return;
    }
    const existing = this.#live(peer);
    if (existing !== undefined) {
      // Both sides dialed at once (a dialer that already has a link closes before HELLO):
      // keep the connection dialed by the smaller id, on both sides alike. A new boot epoch
      // means the peer restarted and the existing link is stale.
      const restarted = hello.boot !== existing.hello.boot;
      const keepNew = restarted || (dialed === this.self < peer && existing.dialed !== dialed);
      if (!keepNew) {
        conn.close(MeshCloseCode.DUPLICATE, 'duplicate link');
        return;
      }
      this.#links.delete(peer);
      existing.close(MeshCloseCode.DUPLICATE, 'duplicate link');
    }
    const o = this.#o;
    const link = new MeshLink({
      self: this.self,
      conn,
      control,
      hello,
      pending: rest,
      controlDecoder: decoder,
      streams: early,
      dialed,
      agentTenant: conn.peerX509 === undefined ? undefined : agentTenantOf(conn.peerX509),
      probeIntervalMs: o.probeIntervalMs,
      ...(o.health === undefined ? {} : { health: o.health }),
      queueBytes: o.linkQueueBytes,
      now: o.now,
      logger: o.logger,
    });
    this.#links.set(peer, link);
    link.once('close', (reason) => {
      if (this.#links.get(peer) === link) this.#links.delete(peer);
      o.logger.info('mesh link down', { peer, reason });
      this.#keepUndelivered(peer, link);
      this.emit('unlink', link);
    });
    // What the previous link to this peer may have lost goes first on the new one.
    const carried = this.#carry.get(peer);
    this.#carry.delete(peer);
    // Not across a peer restart: its duplicate filter is new, so a frame it did receive before
    // would be delivered twice.
    if (carried !== undefined && carried.until >= o.now() && carried.boot === hello.boot && carried.frames.length > 0) {
      link.resendFwd(carried.frames);
      o.logger.info('mesh link resent', { peer, frames: carried.frames.length });
    }
    o.logger.info('mesh link up', { peer, dialed, remote: `${conn.remoteAddress.host}:${conn.remoteAddress.port}` });
    this.emit('link', link);
  }

  /** A link went away: hold what it sent recently for the next link to the peer (or hand it to the live one). */
  #keepUndelivered(peer: string, link: MeshLink): void {
    if (this.#closed) return;
    const frames = link.recentFwd();
    if (frames.length === 0) return;
    const live = this.#live(peer);
    if (live !== undefined && live !== link && live.hello.boot === link.hello.boot) {
      live.resendFwd(frames);
      this.#o.logger.info('mesh link resent', { peer, frames: frames.length });
      return;
    }
    if (live === undefined) this.#carry.set(peer, { frames, until: this.#o.now() + RESEND_WINDOW_MS, boot: link.hello.boot });
  }
}

interface Hello {
  hello: HelloFrame;
  /** Frames that arrived in the same read as HELLO (the peer may send at once after it). */
  rest: Frame<number>[];
  /** The decoder that read HELLO: it may hold the start of the next frame, so the link goes on with it. */
  decoder: FrameDecoder<number>;
}

/** Reads the first frame of a control stream, which must be HELLO, and pauses the stream. */
function readHello(control: MeshStream, conn: MeshConnection): Promise<Hello> {
  return new Promise((resolve, reject) => {
    const dec = createMeshDecoder();
    const timer = setTimeout(() => done(new Error('HELLO timeout')), HELLO_TIMEOUT_MS);
    const onClose = (): void => done(new Error('connection closed before HELLO'));
    const onData = (chunk: Buffer): void => {
      try {
        const frames = dec.push(chunk);
        const first = frames[0];
        if (first === undefined) return;
        if (first.type !== MeshFrameType.HELLO) throw new Error('expected HELLO first');
        done(undefined, { hello: decodeHello(first), rest: frames.slice(1), decoder: dec });
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    };
    function done(err: Error | undefined, hello?: Hello): void {
      clearTimeout(timer);
      control.off('data', onData);
      conn.off('close', onClose);
      // Park the stream until MeshLink attaches its own 'data' listener: nothing is lost.
      control.pause();
      if (err !== undefined) reject(err);
      else resolve(hello!);
    }
    control.on('data', onData);
    conn.once('close', onClose);
  });
}
