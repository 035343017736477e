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
  type FwdFrame,
  type HelloFrame,
} from '@fastpubsub/wire';
import type { QuicConnection, QuicStream } from '@fastpubsub/quic';
import type { Logger } from '@fastpubsub/core';
import { LinkHealth, type LinkHealthOptions, type LinkMetrics, type LinkState } from '../route/index.js';
import { LinkSendQueue } from './queue.js';

export interface MeshLinkOptions {
  self: string;
  conn: QuicConnection;
  control: QuicStream;
  hello: HelloFrame;
  /** Control frames read together with HELLO, emitted once listeners are attached. */
  pending?: Frame<number>[];
  /** We dialed this connection (the dialer opened the control stream). */
  dialed: boolean;
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
}

const PROTOCOL_ERROR = 0x10;

export class MeshLink extends EventEmitter<MeshLinkEvents> {
  readonly peer: string;
  readonly hello: HelloFrame;
  readonly dialed: boolean;
  readonly conn: QuicConnection;
  readonly health: LinkHealth;
  readonly counters: LinkCounters = { fwdSent: 0, fwdReceived: 0, bytesSent: 0, bytesReceived: 0, probesSent: 0, probesAnswered: 0 };
  readonly queue: LinkSendQueue;
  readonly #control: QuicStream;
  #msgOut: QuicStream | undefined;
  readonly #now: () => number;
  readonly #logger: Logger;
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
    this.conn = o.conn;
    this.#control = o.control;
    this.#now = o.now;
    this.#logger = o.logger;
    this.health = new LinkHealth(o.health);
    this.queue = new LinkSendQueue(o.queueBytes);

    const ctl = createMeshDecoder();
    o.control.on('data', (chunk) => this.#feed(ctl, chunk, (f) => this.emit('control', f)));
    const pending = o.pending ?? [];
    // The transport parked the stream after HELLO; frames it already read go first.
    queueMicrotask(() => {
      for (const f of pending) if (!this.#closed) this.emit('control', f);
      o.control.resume();
    });
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
    this.#control.write(frame);
  }

  /** Queues one encoded FWD frame (drop-oldest past the bound). */
  sendFwd(frame: Uint8Array): void {
    if (this.#closed) return;
    if (this.#msgOut === undefined) {
      const s = this.conn.openUniStream();
      s.on('drain', () => this.queue.drain(s));
      s.on('close', () => {
        if (this.#msgOut === s) this.#msgOut = undefined;
      });
      this.#msgOut = s;
    }
    this.counters.fwdSent++;
    this.counters.bytesSent += frame.length;
    this.queue.push(this.#msgOut, frame);
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

  #acceptMessageStream(s: QuicStream): void {
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
    this.health.probeReply(p.seq, this.#now());
    this.#tickHealth(true);
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
    const state = this.health.tick(this.#now());
    if (state !== this.#state || measured) {
      this.#state = state;
      this.emit('health', state, this.health.metrics());
    }
  }
}
