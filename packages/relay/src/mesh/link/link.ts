// One mesh link: a QUIC connection to one peer relay whose identity (the certificate's relay
// id) is known and confirmed by HELLO. Three channels over it:
//   - the control stream (bidirectional, opened by the dialer): ROUTE, INTEREST, PEERS frames;
//   - one unidirectional message stream per direction: FWD frames, behind a bounded queue, so
//     a backlog of messages never delays routing and interest updates;
//   - QUIC datagrams: PROBE / PROBE_ACK, so a lost probe is a lost packet (visible as loss).
// Probe results feed LinkHealth (pure, from the routing core); this class only does the I/O.
import { EventEmitter } from 'node:events';
import {
  MeshFrameType,
  createMeshDecoder,
  decodeFrame,
  decodeFwd,
  decodeProbe,
  encodeProbe,
  isWireError,
  type Frame,
  type FrameDecoder,
  type FwdFrame,
  type HelloFrame,
} from '@fastpubsub/wire';
import type { MeshConnection, MeshStream } from './conn.js';
import type { Logger } from '@fastpubsub/core';
import { LinkHealth, type LinkHealthOptions, type LinkMetrics, type LinkState } from '../route/index.js';
import { LinkSendQueue } from './queue.js';
import { controlForAgent } from './agent-guard.js';

export interface MeshLinkOptions {
  self: string;
  conn: MeshConnection;
  control: MeshStream;
  hello: HelloFrame;
  /** Control frames read together with HELLO, emitted once listeners are attached. */
  pending?: Frame<number>[];
  /** The decoder that read HELLO (it may hold part of the next frame); default a fresh one. */
  controlDecoder?: FrameDecoder<number>;
  /** Streams the peer opened before this link existed (handed over by the transport). */
  streams?: MeshStream[];
  /** We dialed this connection (the dialer opened the control stream). */
  dialed: boolean;
  /** The peer is an edge agent bound to this tenant (from its certificate). */
  agentTenant?: string | undefined;
  probeIntervalMs: number;
  health?: LinkHealthOptions;
  queueBytes: number;
  /** Monotonic ms. */
  now: () => number;
  logger: Logger;
}

export interface MeshLinkEvents {
  /** ROUTE, INTEREST, PEERS (and future control types) from the peer. */
  control: [frame: Frame<number>];
  fwd: [frame: FwdFrame, bytes: number];
  /** LinkHealth changed state, or produced new metrics (state unchanged). */
  health: [state: LinkState, metrics: LinkMetrics | undefined];
  close: [reason: string];
}

export interface LinkCounters {
  fwdSent: number;
  fwdReceived: number;
  bytesSent: number;
  bytesReceived: number;
  probesSent: number;
  probesAnswered: number;
  /** FWD frames re-sent here after the peer's previous link was replaced (not in fwdSent). */
  fwdResent: number;
}

/**
 * How long a sent FWD frame is retained for a resend if the link is replaced or lost. QUIC does
 * not tell us what the peer has read, and a closed connection discards unsent stream data, so
 * anything written shortly before the close may be gone; receivers deduplicate by (message
 * id, destination) for 10 s, so resending a frame that did arrive is harmless.
 */
export const RESEND_WINDOW_MS = 2000;

const PROTOCOL_ERROR = 0x10;
const RETIRED = { at: 0, frame: new Uint8Array(0) };

export class MeshLink extends EventEmitter<MeshLinkEvents> {
  readonly peer: string;
  readonly hello: HelloFrame;
  readonly dialed: boolean;
  /** Set when the peer is an edge agent: the one tenant this link may carry. */
  readonly agentTenant: string | undefined;
  readonly conn: MeshConnection;
  readonly health: LinkHealth;
  readonly counters: LinkCounters = { fwdSent: 0, fwdReceived: 0, bytesSent: 0, bytesReceived: 0, probesSent: 0, probesAnswered: 0, fwdResent: 0 };
  readonly queue: LinkSendQueue;
  readonly #control: MeshStream;
  #msgOut: MeshStream | undefined;
  readonly #now: () => number;
  readonly #logger: Logger;
  /** Recently sent FWD frames (oldest first), bounded by RESEND_WINDOW_MS and #retainMax. */
  readonly #recent: { at: number; frame: Uint8Array }[] = [];
  #recentHead = 0;
  #recentBytes = 0;
  readonly #retainMax: number;
  /** UDP datagrams received as of the last health tick (native counter). */
  #udpReceivedSeen = 0;
  readonly #probeTimer: NodeJS.Timeout;
  readonly #healthTimer: NodeJS.Timeout;
  #probeSeq = 0;
  #state: LinkState = 'unknown';
  #closed = false;

  constructor(o: MeshLinkOptions) {
    super();
    this.peer = o.hello.id;
    this.hello = o.hello;
    this.dialed = o.dialed;
    this.agentTenant = o.agentTenant;
    this.conn = o.conn;
    this.#control = o.control;
    this.#now = o.now;
    this.#logger = o.logger;
    this.health = new LinkHealth(o.health);
    this.queue = new LinkSendQueue(o.queueBytes);
    this.#retainMax = o.queueBytes;

    const ctl = o.controlDecoder ?? createMeshDecoder();
    o.control.on('data', (chunk) => this.#feed(ctl, chunk, (f) => this.emit('control', f)));
    const pending = o.pending ?? [];
    // The transport parked the stream after HELLO; frames it already read go first.
    queueMicrotask(() => {
      for (const f of pending) if (!this.#closed) this.emit('control', f);
      o.control.resume();
    });
    for (const s of o.streams ?? []) this.#acceptMessageStream(s);
    o.conn.on('stream', (s) => this.#acceptMessageStream(s));
    o.conn.on('datagram', (d) => this.#onDatagram(d));
    o.conn.once('close', (info) => this.#finish(`connection closed (${info.how}${info.reason ? `: ${info.reason}` : ''})`));

    this.#probeTimer = setInterval(() => this.#probe(), o.probeIntervalMs);
    // Health is ticked more often than probes are sent, so "dead" is noticed promptly.
    this.#healthTimer = setInterval(() => this.#tickHealth(), Math.max(20, Math.min(100, o.probeIntervalMs / 5)));
    this.#probe();
  }

  get state(): LinkState {
    return this.#state;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  sendControl(frame: Uint8Array): void {
    if (this.#closed) return;
    // An agent's link carries its own tenant only (agent-guard.ts).
    const out = this.agentTenant === undefined ? frame : controlForAgent(this.agentTenant, frame);
    if (out === undefined) return;
    try {
      this.#control.write(out);
    } catch {
      // The control stream already ended or was reset: the link is going down ('close' follows).
    }
  }

  /**
   * Queues one encoded FWD frame (drop-oldest past the bound). With a `latestKey` (latest-mode
   * channel) a queued, unsent frame of the same key is replaced by this one.
   */
  sendFwd(frame: Uint8Array, latestKey?: string): void {
    if (this.#closed) return;
    this.counters.fwdSent++;
    this.counters.bytesSent += frame.length;
    this.#retain(frame);
    this.#write(frame, latestKey);
  }

  /** Re-sends frames a previous link to the same peer may not have delivered. */
  resendFwd(frames: readonly Uint8Array[]): void {
    if (this.#closed) return;
    for (const f of frames) {
      this.counters.fwdResent++;
      this.#retain(f);
      this.#write(f);
    }
  }

  /** FWD frames sent within the resend window, oldest first (for a replacement link). */
  recentFwd(): Uint8Array[] {
    this.#trim(this.#now());
    const out: Uint8Array[] = [];
    for (let i = this.#recentHead; i < this.#recent.length; i++) out.push(this.#recent[i]!.frame);
    return out;
  }

  #retain(frame: Uint8Array): void {
    const now = this.#now();
    this.#recent.push({ at: now, frame });
    this.#recentBytes += frame.length;
    this.#trim(now);
  }

  #trim(now: number): void {
    const r = this.#recent;
    while (this.#recentHead < r.length && (now - r[this.#recentHead]!.at > RESEND_WINDOW_MS || this.#recentBytes > this.#retainMax)) {
      this.#recentBytes -= r[this.#recentHead]!.frame.length;
      r[this.#recentHead++] = RETIRED;
    }
    if (this.#recentHead > 1024 && this.#recentHead * 2 > r.length) {
      r.splice(0, this.#recentHead);
      this.#recentHead = 0;
    }
  }

  #write(frame: Uint8Array, latestKey?: string): void {
    if (this.#msgOut === undefined) {
      let s: MeshStream;
      try {
        s = this.conn.openUniStream();
      } catch {
        // The connection is closing and its 'close' event has not reached us yet: the frame is
        // retained, and the transport hands it to the next link to this peer.
        return;
      }
      s.on('drain', () => this.queue.drain(s));
      s.on('close', () => {
        if (this.#msgOut === s) this.#msgOut = undefined;
      });
      this.#msgOut = s;
    }
    this.queue.push(this.#msgOut, frame, latestKey);
  }

  close(code = 0, reason = 'closing'): void {
    if (!this.#closed) this.conn.close(code, reason);
    this.#finish(reason);
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#probeTimer);
    clearInterval(this.#healthTimer);
    this.emit('close', reason);
  }

  #feed(decoder: ReturnType<typeof createMeshDecoder>, chunk: Uint8Array, onFrame: (f: Frame<number>) => void): void {
    try {
      decoder.feed(chunk, onFrame);
    } catch (err) {
      this.#logger.warn('mesh link protocol error, closing', { peer: this.peer, err: isWireError(err) ? err.message : String(err) });
      this.close(PROTOCOL_ERROR, isWireError(err) ? err.code : 'internal');
    }
  }

  #acceptMessageStream(s: MeshStream): void {
    if (s.direction !== 'uni') {
      s.stopSending(PROTOCOL_ERROR);
      return;
    }
    const dec = createMeshDecoder();
    s.on('data', (chunk) =>
      this.#feed(dec, chunk, (f) => {
        if (f.type !== MeshFrameType.FWD) return; // unknown types on the message stream are skipped
        const fwd = decodeFwd(f);
        this.counters.fwdReceived++;
        this.counters.bytesReceived += f.payload.length;
        this.emit('fwd', fwd, f.payload.length);
      }),
    );
  }

  #onDatagram(d: Buffer): void {
    let p;
    try {
      p = decodeProbe(decodeFrame<number>(d, { acceptType: (t): t is number => t === MeshFrameType.PROBE || t === MeshFrameType.PROBE_ACK }));
    } catch {
      return; // a datagram we do not understand is dropped: datagrams are best-effort anyway
    }
    if (!p.ack) {
      this.#sendDatagram(encodeProbe({ ack: true, seq: p.seq }));
      return;
    }
    this.counters.probesAnswered++;
    // The RTT is quinn's path estimate, timed in the native QUIC stack from packet send to ACK
    // (minus the peer's reported ACK delay): a busy JavaScript event loop on either relay delays
    // this reply but not that measurement, so CPU load does not look like network latency.
    // The probe still proves liveness and counts loss.
    this.health.probeReply(p.seq, this.#now(), this.#pathRttMs());
    this.#tickHealth(true);
  }

  /** UDP datagrams the native stack received on this connection (0 once closed). */
  #udpReceived(): number {
    try {
      return this.conn.stats()?.udpDatagramsReceived ?? 0;
    } catch {
      return 0;
    }
  }

  #pathRttMs(): number | undefined {
    try {
      return this.conn.stats()?.rttMs;
    } catch {
      return undefined; // closed: fall back to the probe's own timing
    }
  }

  #probe(): void {
    if (this.#closed) return;
    const seq = (this.#probeSeq = (this.#probeSeq + 1) >>> 0);
    this.health.probeSent(seq, this.#now());
    this.counters.probesSent++;
    this.#sendDatagram(encodeProbe({ ack: false, seq }));
  }

  #sendDatagram(bytes: Uint8Array): void {
    try {
      this.conn.sendDatagram(bytes);
    } catch {
      // Closed or datagrams refused: the health check will call the link dead.
    }
  }

  #tickHealth(measured = false): void {
    if (this.#closed) return;
    const received = this.#udpReceived();
    if (received > this.#udpReceivedSeen) {
      this.#udpReceivedSeen = received;
      this.health.heardFrom(this.#now());
    }
    const state = this.health.tick(this.#now());
    if (state !== this.#state || measured) {
      this.#state = state;
      this.emit('health', state, this.health.metrics());
    }
  }
}
