// UdpLinkEmulator: one emulated link between UDP endpoints A and B, as a userspace proxy.
//
// The emulator owns two listen sockets: `addressForA` (A sends here to reach B) and
// `addressForB` (B sends here to reach A). Each distinct sender on a listen socket gets its own
// upstream socket (NAT-style session), so the far end always sees one stable source address per
// sender and its replies come back to that upstream socket, which relays them to the sender
// from the listen socket it used. The 4-tuples seen by both QUIC endpoints therefore stay stable.
//
// Traffic from A towards B (requests from A-side sessions, replies in B-side sessions) goes
// through the 'aToB' LinkDirection; the opposite through 'bToA'.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { systemClock, type Clock } from './clock.js';
import { LinkDirection, type LinkParams, type LinkStats, type LinkUpdate } from './link.js';
import { deriveSeed } from './prng.js';

export interface UdpAddress {
  host: string;
  port: number;
}

export type Direction = 'aToB' | 'bToA';

export interface UdpLinkOptions {
  /** Endpoint A's real address (where replies for B-initiated sessions go). */
  a: UdpAddress;
  /** Endpoint B's real address (where A-initiated traffic goes). */
  b: UdpAddress;
  /** Applied to both directions. */
  link?: LinkUpdate;
  /** Per-direction overrides on top of `link`. */
  aToB?: LinkUpdate;
  bToA?: LinkUpdate;
  /** PRNG seed for loss and jitter (default 1). Same seed + same traffic = same outcome. */
  seed?: number;
  /** Local address to bind the emulator's sockets to (default 127.0.0.1). */
  host?: string;
  /** Fixed listen ports (default 0 = ephemeral). */
  portForA?: number;
  portForB?: number;
  /** Time source for the shaper (default: real clock). */
  clock?: Clock;
}

export interface UdpLinkStats {
  aToB: LinkStats;
  bToA: LinkStats;
  /** Live NAT-style sessions (one per distinct sender). */
  sessions: number;
}

interface Session {
  upstream: Socket;
  sender: UdpAddress;
}

interface Side {
  listen: Socket;
  /** Where traffic arriving on this side's listen socket is forwarded. */
  target: UdpAddress;
  /** Direction of traffic from this side's senders towards the target. */
  outbound: LinkDirection;
  inbound: LinkDirection;
  sessions: Map<string, Session>;
}

export class UdpLinkEmulator {
  /** A sends here to reach B. */
  readonly addressForA: UdpAddress;
  /** B sends here to reach A. */
  readonly addressForB: UdpAddress;
  private readonly dirs: Record<Direction, LinkDirection>;
  private readonly sides: Side[];
  private readonly host: string;
  private closed = false;

  private constructor(host: string, sides: Side[], dirs: Record<Direction, LinkDirection>) {
    this.host = host;
    this.sides = sides;
    this.dirs = dirs;
    this.addressForA = { host, port: (sides[0]!.listen.address()).port };
    this.addressForB = { host, port: (sides[1]!.listen.address()).port };
  }

  /** Binds the listen sockets and starts forwarding. */
  static async start(opts: UdpLinkOptions): Promise<UdpLinkEmulator> {
    const host = opts.host ?? '127.0.0.1';
    const seed = opts.seed ?? 1;
    const clock = opts.clock ?? systemClock;
    const aToB = new LinkDirection({ ...opts.link, ...opts.aToB }, deriveSeed(seed, 0), clock);
    const bToA = new LinkDirection({ ...opts.link, ...opts.bToA }, deriveSeed(seed, 1), clock);
    const listenA = await bindUdp(host, opts.portForA ?? 0);
    let listenB: Socket;
    try {
      listenB = await bindUdp(host, opts.portForB ?? 0);
    } catch (err) {
      listenA.close();
      throw err;
    }
    const sides: Side[] = [
      { listen: listenA, target: { ...opts.b }, outbound: aToB, inbound: bToA, sessions: new Map() },
      { listen: listenB, target: { ...opts.a }, outbound: bToA, inbound: aToB, sessions: new Map() },
    ];
    const emu = new UdpLinkEmulator(host, sides, { aToB, bToA });
    for (const side of sides) {
      side.listen.on('message', (msg, rinfo) => emu.fromSender(side, msg, rinfo));
      side.listen.on('error', () => {}); // e.g. ICMP port unreachable surfaced as an error
    }
    return emu;
  }

  /** Changes one direction, or both when `direction` is omitted. Takes effect for new packets. */
  setLink(params: LinkUpdate, direction?: Direction): void {
    if (direction === undefined || direction === 'aToB') this.dirs.aToB.set(params);
    if (direction === undefined || direction === 'bToA') this.dirs.bToA.set(params);
  }

  /** Shorthand for `setLink({ down })` on both directions. */
  setDown(down: boolean): void {
    this.setLink({ down });
  }

  params(direction: Direction): LinkParams {
    return this.dirs[direction].params;
  }

  stats(): UdpLinkStats {
    return {
      aToB: this.dirs.aToB.stats(),
      bToA: this.dirs.bToA.stats(),
      sessions: this.sides[0]!.sessions.size + this.sides[1]!.sessions.size,
    };
  }

  /** Closes every socket and cancels packets in flight. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dirs.aToB.close();
    this.dirs.bToA.close();
    const sockets: Socket[] = [];
    for (const side of this.sides) {
      sockets.push(side.listen);
      for (const s of side.sessions.values()) sockets.push(s.upstream);
      side.sessions.clear();
    }
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    })));
  }

  private fromSender(side: Side, msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    let session = side.sessions.get(key);
    if (session === undefined) {
      const upstream = createSocket(rinfo.family === 'IPv6' ? 'udp6' : 'udp4');
      const sender = { host: rinfo.address, port: rinfo.port };
      const s: Session = { upstream, sender };
      upstream.on('error', () => {});
      upstream.on('message', (reply) => {
        if (this.closed) return;
        side.inbound.submit(reply.length, () => this.send(side.listen, reply, s.sender));
      });
      upstream.bind(0, this.host);
      side.sessions.set(key, s);
      session = s;
    }
    const upstream = session.upstream;
    side.outbound.submit(msg.length, () => this.send(upstream, msg, side.target));
  }

  private send(socket: Socket, msg: Buffer, to: UdpAddress): void {
    if (this.closed) return;
    try {
      socket.send(msg, to.port, to.host);
    } catch {
      // socket closed under us: the packet is lost, as on a real link
    }
  }
}

function bindUdp(host: string, port: number): Promise<Socket> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
